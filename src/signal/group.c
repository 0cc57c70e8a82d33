/*
 * group.c — parse and resolve a group signal (SPEC §8); see group.h.
 *
 * The object is read in passes, one per reason code, so that the reason
 * reported is the first that applies in SPEC §4's order: MISSING_FIELD for
 * every required field anywhere (legs included) before any BAD_TYPE, and so
 * on.  Numbers never go through double except "iv": json-c keeps the text
 * of real-number tokens (json_object_to_json_string_ext prints it back
 * verbatim), which goes straight into fixed-point.
 */
#include "signal/group.h"
#include "signal/signal_int.h"

#include <json-c/json.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* A price-like value as read. */
struct pval {
    bool present;
    bool nonfinite;     /* NaN / Infinity, token or string */
    hh_price_t v;
};

/* One explicit leg as read. */
struct raw_leg {
    struct json_object *sym, *side, *lots, *price, *bid, *ask, *iv;
    enum hh_side s;
    int64_t nlots;
    struct pval pprice, pbid, pask;
    bool iv_nonfinite;
    double ivv;
};

/* The whole object as read. */
struct raw {
    struct json_object *type, *id, *ts, *strategy, *legs, *build, *underlying, *expiry,
        *strikes, *lots, *stop_loss, *target;
    int nlegs;
    struct raw_leg leg[HH_STRAT_LEGS_MAX];
    struct pval strike[HH_STRAT_STRIKES_MAX];
    struct pval sl, tg;
};

/* ---- helpers ------------------------------------------------------------------- */

static bool fail(struct hh_group_signal *out, struct hh_sig_reject *rej,
                 enum hh_sig_reason reason, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static bool fail(struct hh_group_signal *out, struct hh_sig_reject *rej,
                 enum hh_sig_reason reason, const char *fmt, ...)
{
    char buf[sizeof rej->detail];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    hh_sig_reject_set(rej, reason, HH_TIME_NONE, "%s", buf);
    if (out->has_id) {
        rej->id_known = true;
        memcpy(rej->id, out->id, sizeof rej->id);
    }
    return false;
}

/* The exact text of a real-number token. */
static const char *double_text(struct json_object *o, size_t *n)
{
    const char *t = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);

    *n = strlen(t);
    return t;
}

/* Read a price-like value (absent/null: not present).  false with a
 * BAD_TYPE detail in why[] when it is not a price. */
static bool read_price(struct json_object *o, struct pval *p, char *why, size_t cap,
                       const char *name)
{
    const int64_t lim = INT64_MAX / HH_FX_SCALE;
    const char *t;
    size_t n;
    int rc;

    memset(p, 0, sizeof *p);
    if (!o)
        return true;
    p->present = true;
    switch (json_object_get_type(o)) {
    case json_type_int: {
        int64_t i = json_object_get_int64(o);

        if (i > lim || i < -lim) {
            snprintf(why, cap, "field '%s': integer out of range", name);
            return false;
        }
        p->v = i * HH_FX_SCALE;
        return true;
    }
    case json_type_double:
        t = double_text(o, &n);
        if (!hh_sig__is_json_number(t, n)) {
            p->nonfinite = true;
            return true;
        }
        rc = hh_price_parse(t, n, HH_DEC_EXP, &p->v);
        break;
    case json_type_string:
        t = json_object_get_string(o);
        n = (size_t)json_object_get_string_len(o);
        if (hh_sig__is_nonfinite(t, n)) {
            p->nonfinite = true;
            return true;
        }
        rc = hh_price_parse(t, n, HH_DEC_PLUS, &p->v);
        break;
    default:
        snprintf(why, cap, "field '%s': expected a price (number or decimal string), got %s",
                 name, hh_sig__json_kind(o));
        return false;
    }
    if (rc == HH_EPREC) {
        snprintf(why, cap, "field '%s': more than 4 decimal places", name);
        return false;
    }
    if (rc) {
        snprintf(why, cap, "field '%s': not a decimal price in range", name);
        return false;
    }
    return true;
}

/* A field value, NULL when absent or null. */
static struct json_object *field(struct json_object *o, const char *key)
{
    struct json_object *v = NULL;

    if (!json_object_object_get_ex(o, key, &v) || json_object_is_type(v, json_type_null))
        return NULL;
    return v;
}

/* ---- passes -------------------------------------------------------------------- */

static void collect(struct json_object *root, struct raw *r)
{
    memset(r, 0, sizeof *r);
    r->type = field(root, "type");
    r->id = field(root, "id");
    r->ts = field(root, "ts");
    r->strategy = field(root, "strategy");
    r->legs = field(root, "legs");
    r->build = field(root, "build");
    r->underlying = field(root, "underlying");
    r->expiry = field(root, "expiry");
    r->strikes = field(root, "strikes");
    r->lots = field(root, "lots");
    r->stop_loss = field(root, "stop_loss");
    r->target = field(root, "target");
    if (r->legs && json_object_is_type(r->legs, json_type_array)) {
        size_t n = json_object_array_length(r->legs);

        for (size_t i = 0; i < n && i < HH_STRAT_LEGS_MAX; i++) {
            struct json_object *l = json_object_array_get_idx(r->legs, i);
            struct raw_leg *x = &r->leg[i];

            r->nlegs++;
            if (!l || !json_object_is_type(l, json_type_object))
                continue;
            x->sym = field(l, "symbol");
            x->side = field(l, "side");
            x->lots = field(l, "lots");
            x->price = field(l, "price");
            x->bid = field(l, "bid");
            x->ask = field(l, "ask");
            x->iv = field(l, "iv");
        }
    }
}

/* The id and ts, read first so that every rejection can name the id. */
static void identify(const struct raw *r, struct hh_group_signal *out)
{
    if (r->id && json_object_is_type(r->id, json_type_string) &&
        hh_sig__id_valid(json_object_get_string(r->id), (size_t)json_object_get_string_len(r->id))) {
        out->has_id = true;
        memcpy(out->id, json_object_get_string(r->id),
               (size_t)json_object_get_string_len(r->id) + 1);
    }
}

static bool pass_missing(const struct raw *r, struct hh_group_signal *out,
                         struct hh_sig_reject *rej)
{
    if (!r->type)
        return fail(out, rej, HH_SIG_MISSING_FIELD, "field 'type' is missing");
    if (!r->legs && !r->build)
        return fail(out, rej, HH_SIG_MISSING_FIELD, "a group needs 'legs' or 'build'");
    if (r->build && !r->legs) {
        if (!r->underlying)
            return fail(out, rej, HH_SIG_MISSING_FIELD, "field 'underlying' is missing");
        if (!r->expiry)
            return fail(out, rej, HH_SIG_MISSING_FIELD, "field 'expiry' is missing");
        if (!r->strikes)
            return fail(out, rej, HH_SIG_MISSING_FIELD, "field 'strikes' is missing");
    }
    for (int i = 0; r->legs && !r->build && i < r->nlegs; i++) {
        struct json_object *l = json_object_array_get_idx(r->legs, (size_t)i);

        if (!l || !json_object_is_type(l, json_type_object))
            continue;                     /* BAD_TYPE below */
        if (!r->leg[i].sym)
            return fail(out, rej, HH_SIG_MISSING_FIELD, "leg %d: field 'symbol' is missing",
                        i + 1);
        if (!r->leg[i].side)
            return fail(out, rej, HH_SIG_MISSING_FIELD, "leg %d: field 'side' is missing",
                        i + 1);
    }
    return true;
}

/* An integer field >= 1 (lots); *v untouched when absent. */
static bool read_lots(struct json_object *o, int64_t *v, char *why, size_t cap,
                      const char *name)
{
    int64_t i;

    if (!o)
        return true;
    if (!json_object_is_type(o, json_type_int)) {
        snprintf(why, cap, "%s: expected an integer >= 1, got %s", name, hh_sig__json_kind(o));
        return false;
    }
    i = json_object_get_int64(o);
    if (i < 1 || i > HH_SIG_LOTS_MAX) {
        snprintf(why, cap, "%s: %s", name, i < 1 ? "must be at least 1" : "out of range");
        return false;
    }
    *v = i;
    return true;
}

static bool pass_types_top(struct raw *r, struct hh_group_signal *out,
                           struct hh_sig_reject *rej)
{
    char why[200];

    if (!json_object_is_type(r->type, json_type_string) ||
        strcmp(json_object_get_string(r->type), "GROUP") != 0)
        return fail(out, rej, HH_SIG_BAD_TYPE, "field 'type': expected \"GROUP\"");
    if (r->id && !out->has_id)
        return fail(out, rej, HH_SIG_BAD_TYPE,
                    "field 'id': expected a string of 1-64 characters [A-Za-z0-9._:-]");
    if (r->ts) {
        const char *w = "expected a timestamp string";

        if (!json_object_is_type(r->ts, json_type_string) ||
            hh_time_parse(json_object_get_string(r->ts),
                          (size_t)json_object_get_string_len(r->ts), &out->ts, &w) != HH_OK)
            return fail(out, rej, HH_SIG_BAD_TYPE, "field 'ts': %s", w ? w : "bad timestamp");
        out->has_ts = true;
    }
    if (r->strategy) {
        size_t n;

        if (!json_object_is_type(r->strategy, json_type_string) ||
            (n = (size_t)json_object_get_string_len(r->strategy)) > HH_SIG_TEXT_MAX - 1 ||
            memchr(json_object_get_string(r->strategy), '\0', n))
            return fail(out, rej, HH_SIG_BAD_TYPE,
                        "field 'strategy': expected a string of at most %d bytes",
                        HH_SIG_TEXT_MAX - 1);
        memcpy(out->strategy, json_object_get_string(r->strategy), n + 1);
    }
    if (r->legs && r->build)
        return fail(out, rej, HH_SIG_BAD_TYPE, "'legs' and 'build' are exclusive");
    out->lots = 1;
    if (!read_lots(r->lots, &out->lots, why, sizeof why, "field 'lots'"))
        return fail(out, rej, HH_SIG_BAD_TYPE, "%s", why);
    if (!read_price(r->stop_loss, &r->sl, why, sizeof why, "stop_loss") ||
        !read_price(r->target, &r->tg, why, sizeof why, "target"))
        return fail(out, rej, HH_SIG_BAD_TYPE, "%s", why);
    return true;
}

static bool pass_types_build(struct raw *r, struct hh_group_signal *out,
                             struct hh_sig_reject *rej)
{
    size_t n;
    char why[200];
    int want;

    if (!json_object_is_type(r->build, json_type_string) ||
        !hh_strat_kind_parse(json_object_get_string(r->build),
                             (size_t)json_object_get_string_len(r->build), &out->build))
        return fail(out, rej, HH_SIG_BAD_TYPE,
                    "field 'build': expected one of bull_put, bear_call, bull_call, bear_put, "
                    "iron_condor, short_straddle, short_strangle");
    if (!json_object_is_type(r->underlying, json_type_string) ||
        (n = (size_t)json_object_get_string_len(r->underlying)) < 1 ||
        n > HH_UNDERLYING_MAX - 1)
        return fail(out, rej, HH_SIG_BAD_TYPE, "field 'underlying': expected a string of "
                    "1-%d characters", HH_UNDERLYING_MAX - 1);
    if (!json_object_is_type(r->expiry, json_type_string) ||
        hh_date_parse(json_object_get_string(r->expiry),
                      (size_t)json_object_get_string_len(r->expiry), &out->expiry) != HH_OK)
        return fail(out, rej, HH_SIG_BAD_TYPE, "field 'expiry': expected a date YYYY-MM-DD");
    want = hh_strat_kind_nstrikes(out->build);
    if (!json_object_is_type(r->strikes, json_type_array) ||
        json_object_array_length(r->strikes) != (size_t)want)
        return fail(out, rej, HH_SIG_BAD_TYPE, "field 'strikes': %s takes a list of %d "
                    "strike%s", hh_strat_kind_name(out->build), want, want == 1 ? "" : "s");
    for (int i = 0; i < want; i++) {
        char name[32];

        snprintf(name, sizeof name, "strikes[%d]", i);
        if (!read_price(json_object_array_get_idx(r->strikes, (size_t)i), &r->strike[i], why,
                        sizeof why, name))
            return fail(out, rej, HH_SIG_BAD_TYPE, "%s", why);
        out->strikes[i] = r->strike[i].v;
    }
    out->nstrikes = want;
    return true;
}

static bool pass_types_legs(struct raw *r, struct hh_group_signal *out,
                            struct hh_sig_reject *rej)
{
    size_t total;
    char why[200];

    if (!json_object_is_type(r->legs, json_type_array))
        return fail(out, rej, HH_SIG_BAD_TYPE, "field 'legs': expected a list, got %s",
                    hh_sig__json_kind(r->legs));
    total = json_object_array_length(r->legs);
    if (total < 1 || total > HH_STRAT_LEGS_MAX)
        return fail(out, rej, HH_SIG_BAD_TYPE, "field 'legs': expected 1-%d legs, got %zu",
                    HH_STRAT_LEGS_MAX, total);
    for (int i = 0; i < r->nlegs; i++) {
        struct json_object *l = json_object_array_get_idx(r->legs, (size_t)i);
        struct raw_leg *x = &r->leg[i];
        char name[32];
        const char *s;
        size_t n;

        if (!l || !json_object_is_type(l, json_type_object))
            return fail(out, rej, HH_SIG_BAD_TYPE, "leg %d: expected an object", i + 1);
        if (!json_object_is_type(x->sym, json_type_string) ||
            (n = (size_t)json_object_get_string_len(x->sym)) < 1 || n > HH_SYMBOL_MAX - 1)
            return fail(out, rej, HH_SIG_BAD_TYPE, "leg %d: field 'symbol': expected a "
                        "string of 1-%d characters", i + 1, HH_SYMBOL_MAX - 1);
        s = json_object_is_type(x->side, json_type_string) ? json_object_get_string(x->side)
                                                            : "";
        if (!strcmp(s, "BUY"))
            x->s = HH_BUY;
        else if (!strcmp(s, "SELL"))
            x->s = HH_SELL;
        else
            return fail(out, rej, HH_SIG_BAD_TYPE, "leg %d: field 'side': expected \"BUY\" "
                        "or \"SELL\"", i + 1);
        x->nlots = out->lots;
        snprintf(name, sizeof name, "leg %d: field 'lots'", i + 1);
        if (!read_lots(x->lots, &x->nlots, why, sizeof why, name))
            return fail(out, rej, HH_SIG_BAD_TYPE, "%s", why);
        snprintf(name, sizeof name, "leg %d: price", i + 1);
        if (!read_price(x->price, &x->pprice, why, sizeof why, name))
            return fail(out, rej, HH_SIG_BAD_TYPE, "%s", why);
        snprintf(name, sizeof name, "leg %d: bid", i + 1);
        if (!read_price(x->bid, &x->pbid, why, sizeof why, name))
            return fail(out, rej, HH_SIG_BAD_TYPE, "%s", why);
        snprintf(name, sizeof name, "leg %d: ask", i + 1);
        if (!read_price(x->ask, &x->pask, why, sizeof why, name))
            return fail(out, rej, HH_SIG_BAD_TYPE, "%s", why);
        if (x->iv) {
            if (json_object_is_type(x->iv, json_type_double)) {
                const char *t;

                t = double_text(x->iv, &n);
                x->iv_nonfinite = !hh_sig__is_json_number(t, n);
                x->ivv = json_object_get_double(x->iv);
            } else if (json_object_is_type(x->iv, json_type_int)) {
                x->ivv = (double)json_object_get_int64(x->iv);
            } else if (json_object_is_type(x->iv, json_type_string) &&
                       hh_sig__is_nonfinite(json_object_get_string(x->iv),
                                    (size_t)json_object_get_string_len(x->iv))) {
                x->iv_nonfinite = true;
            } else {
                return fail(out, rej, HH_SIG_BAD_TYPE, "leg %d: field 'iv': expected a "
                            "number, got %s", i + 1, hh_sig__json_kind(x->iv));
            }
            if (!x->iv_nonfinite && !(x->ivv > 0 && x->ivv <= 5))
                return fail(out, rej, HH_SIG_BAD_TYPE, "leg %d: field 'iv': expected a "
                            "fraction in (0, 5] (0.15 = 15 %%)", i + 1);
        }
    }
    return true;
}

static bool pass_finite(const struct raw *r, struct hh_group_signal *out,
                        struct hh_sig_reject *rej)
{
    if (r->sl.nonfinite || r->tg.nonfinite)
        return fail(out, rej, HH_SIG_NOT_FINITE, "field '%s' is not finite",
                    r->sl.nonfinite ? "stop_loss" : "target");
    for (int i = 0; i < out->nstrikes; i++)
        if (r->strike[i].nonfinite)
            return fail(out, rej, HH_SIG_NOT_FINITE, "strikes[%d] is not finite", i);
    for (int i = 0; r->legs && i < r->nlegs; i++) {
        const struct raw_leg *x = &r->leg[i];

        if (x->pprice.nonfinite || x->pbid.nonfinite || x->pask.nonfinite || x->iv_nonfinite)
            return fail(out, rej, HH_SIG_NOT_FINITE, "leg %d: %s is not finite", i + 1,
                        x->pprice.nonfinite ? "price" : x->pbid.nonfinite ? "bid"
                        : x->pask.nonfinite ? "ask" : "iv");
    }
    return true;
}

static bool pass_positive(const struct raw *r, struct hh_group_signal *out,
                          struct hh_sig_reject *rej)
{
    if ((r->sl.present && r->sl.v <= 0) || (r->tg.present && r->tg.v <= 0))
        return fail(out, rej, HH_SIG_NON_POSITIVE_PRICE, "field '%s' must be > 0",
                    r->sl.present && r->sl.v <= 0 ? "stop_loss" : "target");
    for (int i = 0; i < out->nstrikes; i++)
        if (r->strike[i].v <= 0)
            return fail(out, rej, HH_SIG_NON_POSITIVE_PRICE, "strikes[%d] must be > 0", i);
    for (int i = 0; r->legs && i < r->nlegs; i++) {
        const struct raw_leg *x = &r->leg[i];

        if (x->pprice.present && x->pprice.v <= 0)
            return fail(out, rej, HH_SIG_NON_POSITIVE_PRICE, "leg %d: price must be > 0",
                        i + 1);
        if ((x->pbid.present && x->pbid.v < 0) || (x->pask.present && x->pask.v < 0))
            return fail(out, rej, HH_SIG_NON_POSITIVE_PRICE, "leg %d: negative quote", i + 1);
    }
    return true;
}

/* Strike order is structural (BAD_TYPE) but needs positive strikes. */
static bool check_strike_order(struct hh_group_signal *out, struct hh_sig_reject *rej)
{
    for (int i = 1; i < out->nstrikes; i++)
        if (out->strikes[i] <= out->strikes[i - 1])
            return fail(out, rej, HH_SIG_BAD_TYPE, "field 'strikes': %s strikes must be "
                        "strictly ascending", hh_strat_kind_name(out->build));
    return true;
}

static bool resolve(const struct raw *r, const struct hh_instruments *inst,
                    const struct hh_calendar *cal, struct hh_group_signal *out,
                    struct hh_sig_reject *rej)
{
    struct hh_diag d = { "" };
    int rc;

    if (out->built) {
        char u[HH_UNDERLYING_MAX];
        size_t n = (size_t)json_object_get_string_len(r->underlying);

        memcpy(u, json_object_get_string(r->underlying), n + 1);
        rc = hh_strat_build(&out->group, out->build, inst, cal, u, out->expiry, out->strikes,
                            out->nstrikes, out->lots, &d);
        if (rc == HH_ENOTFOUND)
            return fail(out, rej, HH_SIG_UNKNOWN_SYMBOL, "%s: %s", hh_strat_kind_name(out->build),
                        d.msg);
        if (rc)
            return fail(out, rej, HH_SIG_BAD_TYPE, "%s: %s", hh_strat_kind_name(out->build),
                        d.msg);
        return true;
    }
    hh_strat_init(&out->group, HH_STRAT_CUSTOM);
    for (int i = 0; i < r->nlegs; i++) {
        const struct raw_leg *x = &r->leg[i];
        struct hh_leg *l;

        rc = hh_strat_add_leg(&out->group, inst, json_object_get_string(x->sym), x->s,
                              x->nlots, &d);
        if (rc == HH_ENOTFOUND)
            return fail(out, rej, HH_SIG_UNKNOWN_SYMBOL, "leg %d: %s", i + 1, d.msg);
        if (rc)
            return fail(out, rej, HH_SIG_BAD_TYPE, "leg %d: %s", i + 1, d.msg);
        l = &out->group.legs[out->group.nlegs - 1];
        if (x->pprice.present)
            l->premium = x->pprice.v;
        if (x->pbid.present)
            l->bid = x->pbid.v;
        if (x->pask.present)
            l->ask = x->pask.v;
        if (x->iv)
            l->iv = x->ivv;
    }
    return true;
}

bool hh_group_from_json(struct json_object *root, const struct hh_instruments *inst,
                        const struct hh_calendar *cal, struct hh_group_signal *out,
                        struct hh_sig_reject *rej)
{
    struct raw r;

    memset(out, 0, sizeof *out);
    out->expiry = HH_DATE_NONE;
    out->ts = HH_TIME_NONE;
    if (!root || !json_object_is_type(root, json_type_object))
        return fail(out, rej, HH_SIG_PARSE_ERROR, "a group signal must be a JSON object");
    collect(root, &r);
    identify(&r, out);
    if (!pass_missing(&r, out, rej) || !pass_types_top(&r, out, rej))
        return false;
    out->built = r.build != NULL;
    if (out->built ? !pass_types_build(&r, out, rej) : !pass_types_legs(&r, out, rej))
        return false;
    if (!pass_finite(&r, out, rej) || !pass_positive(&r, out, rej))
        return false;
    if (out->built && !check_strike_order(out, rej))
        return false;
    out->has_stop_loss = r.sl.present;
    out->stop_loss = r.sl.v;
    out->has_target = r.tg.present;
    out->target = r.tg.v;
    return resolve(&r, inst, cal, out, rej);
}

bool hh_group_parse(const char *text, size_t len, const struct hh_instruments *inst,
                    const struct hh_calendar *cal, struct hh_group_signal *out,
                    struct hh_sig_reject *rej)
{
    struct json_tokener *tok;
    struct json_object *root;
    enum json_tokener_error jerr;
    size_t used;
    bool ok;

    memset(out, 0, sizeof *out);
    if (len > INT32_MAX)
        return fail(out, rej, HH_SIG_PARSE_ERROR, "input too large");
    tok = json_tokener_new();
    if (!tok)
        return fail(out, rej, HH_SIG_PARSE_ERROR, "out of memory");
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
    root = json_tokener_parse_ex(tok, text, (int)len);
    jerr = json_tokener_get_error(tok);
    used = json_tokener_get_parse_end(tok);
    json_tokener_free(tok);
    if (!root || jerr != json_tokener_success) {
        json_object_put(root);
        return fail(out, rej, HH_SIG_PARSE_ERROR, "invalid JSON: %s",
                    root ? "incomplete" : json_tokener_error_desc(jerr));
    }
    for (size_t i = used; i < len; i++) {
        if (text[i] != ' ' && text[i] != '\t' && text[i] != '\n' && text[i] != '\r') {
            json_object_put(root);
            return fail(out, rej, HH_SIG_PARSE_ERROR, "trailing text after the object");
        }
    }
    ok = hh_group_from_json(root, inst, cal, out, rej);
    json_object_put(root);
    return ok;
}

bool hh_group_validate(const struct hh_group_signal *gs, const struct hh_strat_rules *rules,
                       struct hh_sig_reject *rej)
{
    if (hh_strat_validate(&gs->group, rules, rej))
        return true;
    if (gs->has_id) {
        rej->id_known = true;
        memcpy(rej->id, gs->id, sizeof rej->id);
    }
    return false;
}
