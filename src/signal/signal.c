/*
 * signal.c — one JSON line in, one accepted signal or one rejection out.
 *
 * A line of the usual simple shape (one flat object, plain ASCII strings)
 * is read by the fast scanner (sigscan.c) straight from the line.  Any
 * other line takes the full road: the lexical gate (jsongate.c: the RFC
 * 8259 rules json-c does not enforce), then json-c (strict, UTF-8
 * validating, one reusable tokener).  Both roads yield the same values
 * (struct hh_sig__val), checked byte for byte by the tests and the fuzz
 * target; then a series of passes in the reason-code order of SPEC §4.
 * Each pass looks at every field it concerns before the next pass starts,
 * so the reason reported is always the earliest code that applies (a NaN
 * entry together with a boolean stop is BAD_TYPE, not NOT_FINITE).
 *
 * Map (sections marked in the file): rejections; the validator; one line's
 * fields; field parsers (the BAD_TYPE pass); the passes in reason-code
 * order; parsing (gate + json-c, or the fast scanner) and the entry points.
 *
 * Numbers never go through double.  A real-number token's exact text is
 * kept by json-c (json_object_new_double_s stores it as the object's
 * userdata, which json_object_to_json_string_ext prints verbatim); it is
 * parsed straight into fixed-point.  Integers come back as int64 and are
 * range-checked, because json-c clamps overflow to INT64_MAX/MIN silently.
 *
 * Readings of the SPEC where it is silent (agreed with the lead; the list
 * is repeated in signal.h):
 *   - a price with more decimals than the fixed-point scale holds is type-
 *     correct; it is reported as TICK_MISALIGNED (no tick is finer than
 *     0.0001).  Its sign for NON_POSITIVE_PRICE comes from the exact text;
 *   - confidence with more than 9 decimals is truncated toward zero; with a
 *     threshold on the 9-decimal grid, "c < min" is decided the same way as
 *     on the exact value, and [0, 1] is checked on the exact text;
 *   - timestamps must lie in the years 1900-2200 (BAD_TYPE otherwise): the
 *     nanosecond clock cannot represent much more and arithmetic must not
 *     overflow;
 *   - strategy and correlation_id longer than 127 bytes, or containing a NUL,
 *     are BAD_TYPE rather than silently cut;
 *   - a duplicate key keeps the last value (json-c's behaviour).
 *
 * The validator owns the set of ids seen (DUPLICATE); nothing here reads a
 * clock: `now` is an argument.
 */
#include "signal/signal.h"
#include "signal/group.h"

#include "signal/signal_int.h"

#include <json-c/json.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ */
/* Rejections                                                          */
/* ------------------------------------------------------------------ */

/* Record the reason and detail of a rejection; returns false so that a
 * check can end with `return fail(rej, ...)`. */
static bool fail(struct hh_sig_reject *rej, enum hh_sig_reason reason,
                 const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static bool fail(struct hh_sig_reject *rej, enum hh_sig_reason reason,
                 const char *fmt, ...)
{
    va_list ap;

    rej->reason = reason;
    va_start(ap, fmt);
    vsnprintf(rej->detail, sizeof rej->detail, fmt, ap);
    va_end(ap);
    return false;
}

/* ------------------------------------------------------------------ */
/* The validator                                                       */
/* ------------------------------------------------------------------ */

struct hh_sig_validator {
    const struct hh_instruments *inst;   /* borrowed */
    const struct hh_calendar *cal;       /* borrowed, or own_cal */
    struct hh_calendar *own_cal;         /* an empty calendar when none given */
    struct hh_sig_rules rules;           /* copied */
    struct json_tokener *tok;            /* reused for every line */
    struct hh_sig__buf gatebuf;          /* the gate's rewrite copy */
    struct hh_sig__ids ids;                   /* ids that reached the DUPLICATE check */
    struct hh_time_memo dates;           /* the last timestamp's date, for the next */
    bool full_road_only;                 /* tests: never take the fast path */
};

struct hh_sig_validator *hh_sig_validator_new(const struct hh_instruments *inst,
                                              const struct hh_calendar *cal,
                                              const struct hh_sig_rules *rules)
{
    struct hh_sig_validator *v;

    HH_ASSERT(inst && rules);
    v = calloc(1, sizeof *v);
    if (!v)
        return NULL;
    v->inst = inst;
    v->rules = *rules;
    v->cal = cal;
    if (!cal) {
        v->own_cal = hh_cal_new();
        if (!v->own_cal)
            goto out_free;
        v->cal = v->own_cal;
    }
    v->tok = json_tokener_new();
    if (!v->tok)
        goto out_cal;
    json_tokener_set_flags(v->tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
    return v;

out_cal:
    hh_cal_free(v->own_cal);
out_free:
    free(v);
    return NULL;
}

void hh_sig_validator_free(struct hh_sig_validator *v)
{
    if (!v)
        return;
    json_tokener_free(v->tok);
    hh_cal_free(v->own_cal);
    free(v->gatebuf.p);
    hh_sig__ids_free(&v->ids);
    free(v);
}

void hh_sig__full_road_only(struct hh_sig_validator *v, bool on)
{
    v->full_road_only = on;
}

int hh_sig_validator_seen(struct hh_sig_validator *v, const char *id)
{
    size_t n = id ? strnlen(id, HH_SIG_ID_MAX) : 0;
    bool seen;

    if (n < 1 || n > HH_SIG_ID_MAX - 1)
        return HH_EINVAL;
    return hh_sig__ids_add(&v->ids, id, n, hh_sig__ids_hash(id, n), &seen);
}

/* ------------------------------------------------------------------ */
/* One line's fields                                                   */
/* ------------------------------------------------------------------ */

/* The fields a signal may carry, in the order of SPEC §4's table (the
 * order in which the MISSING_FIELD and BAD_TYPE passes look at them);
 * the required ones are marked in REQUIRED. */
enum fld {
    F_ID, F_TS, F_RECEIVED_AT, F_SYMBOL, F_SIDE, F_ENTRY, F_STOP, F_TARGETS,
    F_CONFIDENCE, F_LOTS, F_VALID_UNTIL, F_STRATEGY, F_CORRELATION_ID, F_TYPE,
    F_COUNT
};

static const char *const fld_name[F_COUNT] = {
    "id", "ts", "received_at", "symbol", "side", "entry", "stop", "targets",
    "confidence", "lots", "valid_until", "strategy", "correlation_id", "type",
};

static const char *const tgt_name[HH_SIG_TARGETS_MAX] = {
    "targets[0]", "targets[1]", "targets[2]",
};

#define BIT(f) (1u << (f))
#define REQUIRED (BIT(F_ID) | BIT(F_TS) | BIT(F_SYMBOL) | BIT(F_SIDE) | \
                  BIT(F_ENTRY) | BIT(F_STOP) | BIT(F_TARGETS))

/* A price as read: exact value, or why it is not one. */
struct price {
    hh_price_t v;            /* fixed-point (truncated toward 0 when eprec) */
    const char *txt;         /* the token or string (borrowed from json-c);
                                NULL for an integer token */
    size_t n;
    bool str;                /* given as a JSON string */
    bool nonfinite;          /* NaN / Infinity: NOT_FINITE */
    bool eprec;              /* more than HH_FX_DIGITS places: TICK_MISALIGNED */
    bool positive;           /* > 0, decided on the exact text */
};

/* Everything learnt about one line; lives on the stack of hh_sig_process. */
struct line_ctx {
    struct hh_sig__val f[F_COUNT];    /* the value; HH_SV_NONE when absent or null */
    unsigned present;                 /* BIT(f): key present (even as null) */
    unsigned given;                   /* BIT(f): present and not null (kind set) */
    struct hh_sig__val titem[HH_SIG_TARGETS_MAX];   /* targets' first items */
    size_t ntitem;                    /* targets' length (when a list) */
    bool id_ok;                       /* parsed and matched its pattern */
    size_t id_len;                    /* id_ok: its length ... */
    uint64_t id_hash;                 /* ... and its hash in the id set */
    const char *ts_why, *recv_why;    /* why ts / received_at did not parse
                                         (NULL: parsed, or absent) */
    hh_time_t ts, recv;               /* recv: effective received_at */
    hh_time_t valid_until;            /* HH_TIME_NONE: default to close */
    struct price entry, stop, tgt[HH_SIG_TARGETS_MAX];
    int ntgt;
    hh_ratio_t conf;
    bool conf_nonfinite;
    int64_t lots;
    enum hh_side side;
    const char *sym;                  /* borrowed from the line or json-c */
    size_t symlen;
    hh_iid_t iid;
    const struct hh_instrument *in;
    struct hh_session sess;           /* the session of recv's IST date */
};

/* A fresh line_ctx: the fields read before any pass writes them.  The
 * rest (prices, levels, session, ...) is written by the pass that owns it
 * before anything reads it; zeroing all of it cost a kilobyte per line. */
static void ctx_init(struct line_ctx *c)
{
    for (int f = 0; f < F_COUNT; f++)   /* an absent value is read for its kind only */
        c->f[f].kind = HH_SV_NONE;
    c->present = c->given = 0;
    c->ntitem = 0;
    c->id_ok = false;
    c->ts_why = c->recv_why = NULL;
    c->conf_nonfinite = false;
}

/* k[0..n) is the literal w (n bytes, n a constant at each call: the
 * compiler compares in a load or two, no call). */
#define IS(k, n, w) ((n) == sizeof(w) - 1 && memcmp(k, w, sizeof(w) - 1) == 0)

/* Map a key to its field, or F_COUNT for keys we ignore: by length, then
 * by the few names of that length. */
static enum fld fld_lookup(const char *k, size_t n)
{
    switch (n) {
    case 2:  return IS(k, n, "id") ? F_ID : IS(k, n, "ts") ? F_TS : F_COUNT;
    case 4:  return IS(k, n, "side") ? F_SIDE : IS(k, n, "stop") ? F_STOP :
                    IS(k, n, "lots") ? F_LOTS : IS(k, n, "type") ? F_TYPE : F_COUNT;
    case 5:  return IS(k, n, "entry") ? F_ENTRY : F_COUNT;
    case 6:  return IS(k, n, "symbol") ? F_SYMBOL : F_COUNT;
    case 7:  return IS(k, n, "targets") ? F_TARGETS : F_COUNT;
    case 8:  return IS(k, n, "strategy") ? F_STRATEGY : F_COUNT;
    case 10: return IS(k, n, "confidence") ? F_CONFIDENCE : F_COUNT;
    case 11: return IS(k, n, "received_at") ? F_RECEIVED_AT :
                    IS(k, n, "valid_until") ? F_VALID_UNTIL : F_COUNT;
    case 14: return IS(k, n, "correlation_id") ? F_CORRELATION_ID : F_COUNT;
    default: return F_COUNT;
    }
}

static const char *double_text(struct json_object *o, size_t *n, bool *finite);

static enum hh_sig__kind kind_of_json(struct json_object *o)
{
    switch (o ? json_object_get_type(o) : json_type_null) {
    case json_type_null: break;
    case json_type_boolean: return HH_SV_BOOL;
    case json_type_int: return HH_SV_INT;
    case json_type_double: return HH_SV_REAL;
    case json_type_string: return HH_SV_STR;
    case json_type_array: return HH_SV_ARR;
    case json_type_object: return HH_SV_OBJ;
    }
    return HH_SV_NONE;
}

/* A json-c value as the validator sees it (NULL: absent). */
static void val_from_json(struct json_object *o, struct hh_sig__val *v)
{
    memset(v, 0, sizeof *v);
    v->kind = kind_of_json(o);
    if (v->kind == HH_SV_INT) {
        v->i = json_object_get_int64(o);
    } else if (v->kind == HH_SV_REAL) {
        v->s = double_text(o, &v->n, &v->finite);
    } else if (v->kind == HH_SV_STR) {
        v->s = json_object_get_string(o);
        v->n = (size_t)json_object_get_string_len(o);
    }
}

/* One pass over the keys of a json-c object. */
static void collect_json(struct json_object *root, struct line_ctx *c)
{
    json_object_object_foreach(root, key, val) {
        enum fld f = fld_lookup(key, strlen(key));

        if (f == F_COUNT)
            continue;
        c->present |= BIT(f);
        val_from_json(val, &c->f[f]);
        c->given = c->f[f].kind != HH_SV_NONE ? c->given | BIT(f) : c->given & ~BIT(f);
        if (f != F_TARGETS || c->f[f].kind != HH_SV_ARR)
            continue;
        c->ntitem = json_object_array_length(val);
        for (size_t i = 0; i < c->ntitem && i < HH_SIG_TARGETS_MAX; i++)
            val_from_json(json_object_array_get_idx(val, i), &c->titem[i]);
    }
}

/* One pass over the members the fast scanner read. */
static void collect_flat(const struct hh_sig__flat *fl, struct line_ctx *c)
{
    for (size_t k = 0; k < fl->nm; k++) {
        const struct hh_sig__member *m = &fl->m[k];
        enum fld f = fld_lookup(m->key, m->klen);

        if (f == F_COUNT)
            continue;
        c->present |= BIT(f);
        c->f[f] = m->v;
        c->given = m->v.kind != HH_SV_NONE ? c->given | BIT(f) : c->given & ~BIT(f);
        if (f != F_TARGETS || m->v.kind != HH_SV_ARR)
            continue;
        c->ntitem = m->nitems;
        for (size_t i = 0; i < c->ntitem && i < HH_SIG_TARGETS_MAX; i++)
            c->titem[i] = fl->item[m->item0 + i];
    }
}

const char *hh_sig__json_kind(struct json_object *o)
{
    struct hh_sig__val v = { .kind = kind_of_json(o) };

    return hh_sig__kind_name(&v);
}

const char *hh_sig__kind_name(const struct hh_sig__val *v)
{
    switch (v->kind) {
    case HH_SV_NONE: return "null";
    case HH_SV_BOOL: return "a boolean";
    case HH_SV_REAL: return "a number";
    case HH_SV_INT: return "an integer";
    case HH_SV_OBJ: return "an object";
    case HH_SV_ARR: return "a list";
    case HH_SV_STR: return "a string";
    }
    return "something else";
}

/*
 * The exact text of a real-number token (json-c keeps it); *finite tells
 * whether it is an RFC 8259 number (else NaN / Infinity, the only other
 * doubles the gate lets through).
 */
static const char *double_text(struct json_object *o, size_t *n, bool *finite)
{
    const char *t = json_object_get_userdata(o);

    /* Fast path: json-c stores the token text of a parsed double as its
     * userdata (json_object_new_double_s); checked, not trusted. */
    if (t) {
        *n = strlen(t);
        if ((*finite = hh_sig__is_json_number(t, *n)))
            return t;
    }
    t = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
    *n = strlen(t);
    *finite = hh_sig__is_json_number(t, *n);
    return t;
}

/* ------------------------------------------------------------------ */
/* Field parsers (the BAD_TYPE pass)                                   */
/* ------------------------------------------------------------------ */

bool hh_sig__id_valid(const char *s, size_t n)
{
    if (n < 1 || n > HH_SIG_ID_MAX - 1)
        return false;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];

        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
              (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == ':' ||
              ch == '-'))
            return false;
    }
    return true;
}

/* Parse a timestamp value.  HH_OK, or HH_ESYNTAX with *why set. */
static int time_from_val(const struct hh_sig__val *o, struct hh_time_memo *memo, hh_time_t *t,
                         const char **why)
{
    const char *s = o->s;
    size_t n = o->n, i;
    int y = 0;

    if (o->kind != HH_SV_STR) {
        *why = "expected a timestamp string";
        return HH_ESYNTAX;
    }
    for (i = 0; i < 4 && i < n && s[i] >= '0' && s[i] <= '9'; i++)
        y = y * 10 + (s[i] - '0');
    /* hh_time_parse would overflow the ns clock far outside this range */
    if (i == 4 && (y < 1900 || y > 2200)) {
        *why = "year outside 1900-2200";
        return HH_ESYNTAX;
    }
    *why = "not an ISO-8601 timestamp";      /* replaced by a precise reason */
    return hh_time_parse_memo(memo, s, n, t, why);
}

/*
 * Read a price value (field name `name` for details).  Returns true when it
 * is a price — possibly non-finite or with excess places, which later
 * passes judge — else fills rej (BAD_TYPE) and returns false.
 */
static bool price_from_val(const struct hh_sig__val *o, const char *name, struct price *p,
                           struct hh_sig_reject *rej)
{
    const int64_t lim = INT64_MAX / HH_FX_SCALE;
    char b[48];
    int rc;

    memset(p, 0, sizeof *p);
    switch (o->kind) {
    case HH_SV_INT: {
        int64_t i = o->i;

        if (i > lim || i < -lim)
            return fail(rej, HH_SIG_BAD_TYPE, "field '%s': integer out of range", name);
        p->v = i * HH_FX_SCALE;
        p->positive = i > 0;
        return true;
    }
    case HH_SV_REAL:
        p->txt = o->s;
        p->n = o->n;
        if (!o->finite) {
            p->nonfinite = true;       /* NaN / Infinity token */
            return true;
        }
        rc = hh_price_parse(p->txt, p->n, HH_DEC_EXP, &p->v);
        break;
    case HH_SV_STR:
        p->str = true;
        p->txt = o->s;
        p->n = o->n;
        if (hh_sig__is_nonfinite(p->txt, p->n)) {
            p->nonfinite = true;
            return true;
        }
        rc = hh_price_parse(p->txt, p->n, HH_DEC_PLUS, &p->v);
        if (rc == HH_ESYNTAX)
            return fail(rej, HH_SIG_BAD_TYPE, "field '%s': \"%s\" is not a decimal price",
                        name, hh_sig__show(b, sizeof b, p->txt, p->n));
        break;
    default:
        return fail(rej, HH_SIG_BAD_TYPE,
                    "field '%s': expected a price (number or decimal string), got %s",
                    name, hh_sig__kind_name(o));
    }
    if (rc == HH_ERANGE || rc == HH_ESYNTAX)
        return fail(rej, HH_SIG_BAD_TYPE, "field '%s': %s is out of range", name,
                    hh_sig__show(b, sizeof b, p->txt, p->n));
    p->eprec = rc == HH_EPREC;
    /* Exact: the value's sign; truncated: the text's (0.00001 is > 0). */
    p->positive = rc == HH_OK ? p->v > 0 : hh_dec_is_positive(p->txt, p->n);
    return true;
}

/* A string field: non-empty when `nonempty`; at most `max` bytes, no NUL. */
static bool text_from_val(const struct hh_sig__val *o, const char *name, size_t max,
                          bool nonempty, const char **s, size_t *n,
                          struct hh_sig_reject *rej)
{
    if (o->kind != HH_SV_STR)
        return fail(rej, HH_SIG_BAD_TYPE, "field '%s': expected a string, got %s",
                    name, hh_sig__kind_name(o));
    *s = o->s;
    *n = o->n;
    if (nonempty && *n == 0)
        return fail(rej, HH_SIG_BAD_TYPE, "field '%s': empty string", name);
    if (*n > max)
        return fail(rej, HH_SIG_BAD_TYPE, "field '%s': longer than %zu bytes", name, max);
    if (memchr(*s, '\0', *n))
        return fail(rej, HH_SIG_BAD_TYPE, "field '%s': contains a NUL character", name);
    return true;
}

static bool check_type_side(struct line_ctx *c, struct hh_sig_reject *rej)
{
    const struct hh_sig__val *o = &c->f[F_SIDE];
    const char *s = o->s;
    size_t n = o->n;
    char b[48];

    if (o->kind != HH_SV_STR)
        return fail(rej, HH_SIG_BAD_TYPE, "field 'side': expected \"BUY\" or \"SELL\", got %s",
                    hh_sig__kind_name(o));
    if (n == 3 && !memcmp(s, "BUY", 3))
        c->side = HH_BUY;
    else if (n == 4 && !memcmp(s, "SELL", 4))
        c->side = HH_SELL;
    else
        return fail(rej, HH_SIG_BAD_TYPE, "field 'side': \"%s\" is not BUY or SELL",
                    hh_sig__show(b, sizeof b, s, n));
    return true;
}

static bool check_type_targets(struct line_ctx *c, struct hh_sig_reject *rej)
{
    const struct hh_sig__val *o = &c->f[F_TARGETS];
    size_t n = c->ntitem;

    if (o->kind != HH_SV_ARR)
        return fail(rej, HH_SIG_BAD_TYPE, "field 'targets': expected a list of 1-3 prices, got %s",
                    hh_sig__kind_name(o));
    if (n < 1 || n > HH_SIG_TARGETS_MAX)
        return fail(rej, HH_SIG_BAD_TYPE, "field 'targets': %zu prices, expected 1-3", n);
    for (size_t i = 0; i < n; i++) {
        if (c->titem[i].kind == HH_SV_NONE)
            return fail(rej, HH_SIG_BAD_TYPE, "field '%s': expected a price, got null",
                        tgt_name[i]);
        if (!price_from_val(&c->titem[i], tgt_name[i], &c->tgt[i], rej))
            return false;
    }
    c->ntgt = (int)n;
    return true;
}

/* confidence: a JSON number in [0, 1], compared exactly. */
static bool check_type_confidence(struct line_ctx *c, struct hh_sig_reject *rej)
{
    const struct hh_sig__val *o = &c->f[F_CONFIDENCE];
    const char *t;
    size_t n;
    char b[48];
    int rc;

    c->conf = HH_RATIO_SCALE;
    if (o->kind == HH_SV_NONE)
        return true;
    t = o->s;
    n = o->n;
    if (o->kind == HH_SV_INT) {
        int64_t i = o->i;

        if (i < 0 || i > 1)
            return fail(rej, HH_SIG_BAD_TYPE, "field 'confidence': %lld is not in [0, 1]",
                        (long long)i);
        c->conf = i * HH_RATIO_SCALE;
        return true;
    }
    if (o->kind != HH_SV_REAL)
        return fail(rej, HH_SIG_BAD_TYPE, "field 'confidence': expected a number, got %s",
                    hh_sig__kind_name(o));
    if (!o->finite) {
        c->conf_nonfinite = true;
        return true;
    }
    rc = hh_ratio_parse(t, n, HH_DEC_EXP, &c->conf);
    /* Excess places truncate toward zero: a value just above 1 truncates to
     * exactly 1, one just below 0 to 0 — both out of [0, 1]. */
    if (rc == HH_ERANGE || rc == HH_ESYNTAX || c->conf < 0 || c->conf > HH_RATIO_SCALE ||
        (rc == HH_EPREC && (t[0] == '-' || c->conf == HH_RATIO_SCALE)))
        return fail(rej, HH_SIG_BAD_TYPE, "field 'confidence': %s is not in [0, 1]",
                    hh_sig__show(b, sizeof b, t, n));
    return true;
}

static bool check_type_lots(struct line_ctx *c, struct hh_sig_reject *rej)
{
    const struct hh_sig__val *o = &c->f[F_LOTS];
    int64_t i;

    c->lots = 0;
    if (o->kind == HH_SV_NONE)
        return true;
    i = o->i;
    if (o->kind != HH_SV_INT)
        return fail(rej, HH_SIG_BAD_TYPE, "field 'lots': expected an integer >= 1, got %s",
                    hh_sig__kind_name(o));
    if (i < 1 || i > HH_SIG_LOTS_MAX)
        return fail(rej, HH_SIG_BAD_TYPE, "field 'lots': %s",
                    i < 1 ? "must be at least 1" : "out of range");
    c->lots = i;
    return true;
}

/* Optional text fields copied into the signal. */
static bool check_type_texts(struct line_ctx *c, struct hh_signal *out,
                             struct hh_sig_reject *rej)
{
    static const enum fld which[2] = { F_STRATEGY, F_CORRELATION_ID };
    char *dst[2] = { out->strategy, out->correlation_id };

    for (int k = 0; k < 2; k++) {
        const char *s;
        size_t n;

        dst[k][0] = '\0';
        if (c->f[which[k]].kind == HH_SV_NONE)
            continue;
        if (!text_from_val(&c->f[which[k]], fld_name[which[k]], HH_SIG_TEXT_MAX - 1,
                            false, &s, &n, rej))
            return false;
        memcpy(dst[k], s, n);
        dst[k][n] = '\0';
    }
    return true;
}

/* ------------------------------------------------------------------ */
/* The passes, in reason-code order                                    */
/* ------------------------------------------------------------------ */

/* Before any check: what the dead letter can say however the line ends —
 * the id when it matches its pattern, and received_at (the field; else the
 * engine clock `now`; else ts). */
static void identify(struct hh_sig_validator *v, struct line_ctx *c, hh_time_t now,
                     struct hh_sig_reject *rej)
{
    const struct hh_sig__val *o = &c->f[F_ID];
    bool ts_ok;

    if (o->kind == HH_SV_STR && hh_sig__id_valid(o->s, o->n)) {
        c->id_ok = rej->id_known = true;
        memcpy(rej->id, o->s, o->n);
        rej->id[o->n] = '\0';
        c->id_len = o->n;
        c->id_hash = hh_sig__ids_hash(o->s, o->n);
        hh_sig__ids_prefetch(&v->ids, c->id_hash);
    }
    ts_ok = c->f[F_TS].kind != HH_SV_NONE &&
            time_from_val(&c->f[F_TS], &v->dates, &c->ts, &c->ts_why) == HH_OK;
    if (ts_ok)
        c->ts_why = NULL;
    c->recv = now;
    if (c->f[F_RECEIVED_AT].kind != HH_SV_NONE) {
        if (time_from_val(&c->f[F_RECEIVED_AT], &v->dates, &c->recv, &c->recv_why) == HH_OK)
            c->recv_why = NULL;
        else
            c->recv = now;                /* BAD_TYPE below */
    } else if (now == HH_TIME_NONE && ts_ok) {
        c->recv = c->ts;
    }
    rej->received_at = c->recv;
}

/* "type":"GROUP" (SPEC §8): a multi-leg group. */
static bool is_group(const struct line_ctx *c)
{
    const struct hh_sig__val *o = &c->f[F_TYPE];

    /* compared as a C string, as json-c's text is read elsewhere */
    return o->kind == HH_SV_STR && strnlen(o->s, o->n) == 5 && !memcmp(o->s, "GROUP", 5);
}

static bool check_missing(const struct line_ctx *c, struct hh_sig_reject *rej)
{
    unsigned missing = REQUIRED & ~c->given;
    int f = missing ? __builtin_ctz(missing) : 0;   /* the first in table order */

    if (!missing)
        return true;
    return fail(rej, HH_SIG_MISSING_FIELD, "field '%s' is %s", fld_name[f],
                c->present & BIT(f) ? "null" : "missing");
}

static bool check_type_id(const struct line_ctx *c, struct hh_sig_reject *rej)
{
    if (!c->id_ok)
        return fail(rej, HH_SIG_BAD_TYPE,
                    "field 'id': expected a string of 1-64 characters [A-Za-z0-9._:-]");
    return true;
}

/* ts and received_at were parsed by identify(): report what it found. */
static bool check_type_clock(const struct line_ctx *c, struct hh_sig_reject *rej)
{
    if (c->ts_why)
        return fail(rej, HH_SIG_BAD_TYPE, "field 'ts': %s", c->ts_why);
    if (c->recv_why)
        return fail(rej, HH_SIG_BAD_TYPE, "field 'received_at': %s", c->recv_why);
    return true;
}

/* valid_until: absent gives HH_TIME_NONE (the session close, later). */
static bool check_type_valid_until(struct line_ctx *c, struct hh_sig_reject *rej)
{
    const char *why;

    c->valid_until = HH_TIME_NONE;
    if (c->f[F_VALID_UNTIL].kind != HH_SV_NONE &&
        time_from_val(&c->f[F_VALID_UNTIL], NULL, &c->valid_until, &why))
        return fail(rej, HH_SIG_BAD_TYPE, "field 'valid_until': %s", why);
    return true;
}

/* BAD_TYPE: every field, in table order. */
static bool check_types(struct line_ctx *c, struct hh_signal *out,
                        struct hh_sig_reject *rej)
{
    return check_type_id(c, rej) && check_type_clock(c, rej) &&
           text_from_val(&c->f[F_SYMBOL], "symbol", SIZE_MAX, true, &c->sym, &c->symlen, rej) &&
           check_type_side(c, rej) &&
           price_from_val(&c->f[F_ENTRY], "entry", &c->entry, rej) &&
           price_from_val(&c->f[F_STOP], "stop", &c->stop, rej) &&
           check_type_targets(c, rej) && check_type_confidence(c, rej) &&
           check_type_lots(c, rej) && check_type_valid_until(c, rej) &&
           check_type_texts(c, out, rej);
}

/* Apply fn to entry, stop and each target with its field name; stop at the
 * first that fails. */
static bool each_price(const struct line_ctx *c, struct hh_sig_reject *rej,
                       bool (*fn)(const struct line_ctx *, const struct price *,
                                  const char *, struct hh_sig_reject *))
{
    if (!fn(c, &c->entry, "entry", rej) || !fn(c, &c->stop, "stop", rej))
        return false;
    for (int i = 0; i < c->ntgt; i++)
        if (!fn(c, &c->tgt[i], tgt_name[i], rej))
            return false;
    return true;
}

static bool price_finite(const struct line_ctx *c, const struct price *p,
                         const char *name, struct hh_sig_reject *rej)
{
    char b[48];

    (void)c;
    if (!p->nonfinite)
        return true;
    if (!p->str)          /* a token: the gate may have rewritten its text */
        return fail(rej, HH_SIG_NOT_FINITE, "field '%s': a non-finite number", name);
    return fail(rej, HH_SIG_NOT_FINITE, "field '%s': \"%s\" is not a finite number",
                name, hh_sig__show(b, sizeof b, p->txt, p->n));
}

static bool check_finite(const struct line_ctx *c, struct hh_sig_reject *rej)
{
    if (!each_price(c, rej, price_finite))
        return false;
    if (c->conf_nonfinite)
        return fail(rej, HH_SIG_NOT_FINITE, "field 'confidence': not a finite number");
    return true;
}

static bool price_positive(const struct line_ctx *c, const struct price *p,
                           const char *name, struct hh_sig_reject *rej)
{
    char b[48];

    (void)c;
    if (p->positive)
        return true;
    if (!p->txt)                           /* an integer token */
        snprintf(b, sizeof b, "%lld", (long long)(p->v / HH_FX_SCALE));
    return fail(rej, HH_SIG_NON_POSITIVE_PRICE, "field '%s': %s is not positive", name,
                p->txt ? hh_sig__show(b, sizeof b, p->txt, p->n) : b);
}

/* Registers the id: from here on a repeat of it is a DUPLICATE, whatever
 * becomes of this line.  Out of memory fails closed (never accept a signal
 * whose uniqueness cannot be proved). */
static bool check_duplicate(struct hh_sig_validator *v, const struct line_ctx *c,
                            struct hh_sig_reject *rej)
{
    bool seen;

    if (hh_sig__ids_add(&v->ids, rej->id, c->id_len, c->id_hash, &seen))
        return fail(rej, HH_SIG_DUPLICATE, "out of memory: cannot record id '%s'", rej->id);
    if (seen)
        return fail(rej, HH_SIG_DUPLICATE, "id '%s' was already received", rej->id);
    return true;
}

static bool check_symbol(struct hh_sig_validator *v, struct line_ctx *c,
                         struct hh_sig_reject *rej)
{
    char b[48];

    c->iid = hh_inst_find(v->inst, c->sym, c->symlen);
    c->in = c->iid == HH_IID_NONE ? NULL : hh_inst_get(v->inst, c->iid);
    if (!c->in || !c->in->known)
        return fail(rej, HH_SIG_UNKNOWN_SYMBOL, "field 'symbol': \"%s\" is not a known instrument",
                    hh_sig__show(b, sizeof b, c->sym, c->symlen));
    return true;
}

/* Expiry day still trades; the day after does not. */
static bool check_expired(const struct line_ctx *c, struct hh_sig_reject *rej)
{
    hh_date_t today = hh_time_ist_date(c->recv);
    char e[16], d[16];

    if (c->in->expiry != HH_DATE_NONE && c->in->expiry < today) {
        hh_date_format(c->in->expiry, e, sizeof e);
        hh_date_format(today, d, sizeof d);
        return fail(rej, HH_SIG_INSTRUMENT_EXPIRED, "instrument %s expired on %s (received %s)",
                    c->in->symbol, e, d);
    }
    return true;
}

static bool price_on_tick(const struct line_ctx *c, const struct price *p,
                          const char *name, struct hh_sig_reject *rej)
{
    hh_price_t tick = c->in->tick;
    char b[48], t[48];

    if (p->eprec)
        return fail(rej, HH_SIG_TICK_MISALIGNED,
                    "field '%s': %s has more than %d decimal places (tick %s)", name,
                    hh_sig__show(b, sizeof b, p->txt, p->n), HH_FX_DIGITS, hh_sig__show_fx(t, sizeof t, tick));
    if (tick <= 0)
        return fail(rej, HH_SIG_TICK_MISALIGNED, "instrument %s has no valid tick size",
                    c->in->symbol);
    if (p->v % tick != 0)
        return fail(rej, HH_SIG_TICK_MISALIGNED, "field '%s': %s is not a multiple of tick %s",
                    name, hh_sig__show_fx(b, sizeof b, p->v), hh_sig__show_fx(t, sizeof t, tick));
    return true;
}

/* BUY: stop < entry < T1 < T2 < T3; SELL: the mirror. */
static bool check_levels(const struct line_ctx *c, struct hh_sig_reject *rej)
{
    const char *dir = c->side == HH_BUY ? "BUY" : "SELL";
    const char *rel = c->side == HH_BUY ? "below" : "above";
    hh_price_t lv[2 + HH_SIG_TARGETS_MAX];
    const char *nm[2 + HH_SIG_TARGETS_MAX] = { "stop", "entry", "T1", "T2", "T3" };
    char a[48], b[48];
    int n = 2 + c->ntgt;

    lv[0] = c->stop.v;
    lv[1] = c->entry.v;
    for (int i = 0; i < c->ntgt; i++)
        lv[2 + i] = c->tgt[i].v;
    for (int i = 0; i + 1 < n; i++) {
        bool ok = c->side == HH_BUY ? lv[i] < lv[i + 1] : lv[i] > lv[i + 1];

        if (!ok)
            return fail(rej, HH_SIG_INVERTED_LEVELS, "%s needs %s %s %s: %s %s, %s %s", dir,
                        nm[i], rel, nm[i + 1], nm[i], hh_sig__show_fx(a, sizeof a, lv[i]),
                        nm[i + 1], hh_sig__show_fx(b, sizeof b, lv[i + 1]));
    }
    return true;
}

/* |T1 - entry| / |entry - stop| >= min_rr, exactly:
 * reward x RATIO_SCALE >= min_rr x risk in 128 bits. */
static bool check_rr(const struct hh_sig_validator *v, const struct line_ctx *c,
                     struct hh_sig_reject *rej)
{
    __int128 reward = (__int128)c->tgt[0].v - c->entry.v;
    __int128 risk = (__int128)c->entry.v - c->stop.v;
    char a[48], b[48], r[48];

    reward = reward < 0 ? -reward : reward;
    risk = risk < 0 ? -risk : risk;
    if (reward * HH_RATIO_SCALE < (__int128)v->rules.min_rr * risk)
        return fail(rej, HH_SIG_RR_TOO_LOW, "reward %s / risk %s is below min_rr %s",
                    hh_sig__show_fx(a, sizeof a, (int64_t)reward), hh_sig__show_fx(b, sizeof b, (int64_t)risk),
                    hh_sig__show_ratio(r, sizeof r, v->rules.min_rr));
    return true;
}

static bool check_confidence(const struct hh_sig_validator *v, const struct line_ctx *c,
                             struct hh_sig_reject *rej)
{
    char a[48], b[48];

    if (c->conf < v->rules.min_confidence)
        return fail(rej, HH_SIG_LOW_CONFIDENCE, "confidence %s is below min_confidence %s",
                    hh_sig__show_ratio(a, sizeof a, c->conf),
                    hh_sig__show_ratio(b, sizeof b, v->rules.min_confidence));
    return true;
}

/* The signal's age is received_at - ts, signed: a signal from the future
 * is FUTURE_TIMESTAMP, never "fresh" (the seeds' Math.abs bug). */
static bool check_clock(const struct hh_sig_validator *v, const struct line_ctx *c,
                        struct hh_sig_reject *rej)
{
    __int128 age = (__int128)c->recv - c->ts;
    char a[48], b[48];

    if (-age > v->rules.max_clock_skew)
        return fail(rej, HH_SIG_FUTURE_TIMESTAMP,
                    "ts is %s after received_at (max clock skew %s)",
                    hh_sig__show_secs(a, sizeof a, -age), hh_sig__show_secs(b, sizeof b, v->rules.max_clock_skew));
    if (age > v->rules.max_live_age)
        return fail(rej, HH_SIG_STALE, "signal is %s old when received (max live age %s)",
                    hh_sig__show_secs(a, sizeof a, age), hh_sig__show_secs(b, sizeof b, v->rules.max_live_age));
    return true;
}

/* Closed on weekends, holidays, and from the session close on; before the
 * open is fine (the signal waits).  Finds the session for valid_until. */
static bool check_session(const struct hh_sig_validator *v, struct line_ctx *c,
                          struct hh_sig_reject *rej)
{
    hh_date_t day = hh_time_ist_date(c->recv);
    const char *ex = hh_exch_name(c->in->exch);
    char d[16], t[40];

    if (hh_cal_session(v->cal, c->in->exch, c->in->seg, day, &c->sess) != HH_OK) {
        hh_date_format(day, d, sizeof d);
        return fail(rej, HH_SIG_MARKET_CLOSED, "%s is closed on %s (%s)", ex, d,
                    hh_date_weekday(day) >= 6 ? "weekend" : "holiday");
    }
    if (c->recv >= c->sess.close) {
        hh_time_format(c->sess.close, t, sizeof t);
        return fail(rej, HH_SIG_MARKET_CLOSED, "received at or after the %s session close %s",
                    ex, t);
    }
    return true;
}

/* Copy what the passes learnt into the accepted signal. */
static void fill_signal(const struct line_ctx *c, const struct hh_sig_reject *idrej,
                        uint64_t lineno, struct hh_signal *out)
{
    memcpy(out->id, idrej->id, sizeof out->id);
    out->line = lineno;
    out->ts = c->ts;
    out->received_at = c->recv;
    out->valid_until = c->valid_until != HH_TIME_NONE ? c->valid_until : c->sess.close;
    out->iid = c->iid;
    out->side = c->side;
    out->entry = c->entry.v;
    out->stop = c->stop.v;
    memset(out->targets, 0, sizeof out->targets);
    for (int i = 0; i < c->ntgt; i++)
        out->targets[i] = c->tgt[i].v;
    out->ntargets = c->ntgt;
    out->confidence = c->conf;
    out->lots = c->lots;
    if (!out->correlation_id[0])
        memcpy(out->correlation_id, out->id, sizeof out->id);
}

/* Every pass after parsing, in SPEC §4 order. */
static bool validate(struct hh_sig_validator *v, struct line_ctx *c, hh_time_t now,
                     uint64_t lineno, struct hh_signal *out, struct hh_sig_reject *rej)
{
    struct hh_sig_reject late;          /* reason and detail only */
    bool later;

    identify(v, c, now, rej);
    if (is_group(c))
        return fail(rej, HH_SIG_BAD_TYPE, "a group signal where a single signal is expected");
    if (!check_missing(c, rej) || !check_types(c, out, rej) ||
        !check_finite(c, rej) || !each_price(c, rej, price_positive))
        return false;
    HH_ASSERT(c->recv != HH_TIME_NONE);   /* ts and received_at are valid now */
    /* The passes after DUPLICATE read nothing the id set holds, so they
     * run first, into their own rejection `late`: by the time the id set's
     * slot is read — out of cache at millions of ids, prefetched by
     * identify() — it has arrived.  The order of reasons is unchanged: a
     * DUPLICATE still wins over anything a later pass found. */
    later = check_symbol(v, c, &late) && check_expired(c, &late) &&
            each_price(c, &late, price_on_tick) && check_levels(c, &late) &&
            check_rr(v, c, &late) && check_confidence(v, c, &late) &&
            check_clock(v, c, &late) && check_session(v, c, &late);
    if (!check_duplicate(v, c, rej))
        return false;
    if (!later) {
        rej->reason = late.reason;
        memcpy(rej->detail, late.detail, strlen(late.detail) + 1);   /* tail stays zero */
        return false;
    }
    fill_signal(c, rej, lineno, out);
    return true;
}

/* A rejection decided by signal/group.c, kept with our id and received_at. */
static bool fail_as(struct hh_sig_reject *rej, const struct hh_sig_reject *from)
{
    return fail(rej, from->reason, "%s", from->detail);
}

/*
 * A group signal: the header checks of a plain signal around the legs that
 * signal/group.c parses and validates, in the order documented in signal.h.
 */
static bool validate_group(struct hh_sig_validator *v, struct line_ctx *c,
                           struct json_object *root, uint64_t lineno, struct hh_signal *out,
                           struct hh_group_signal *g, struct hh_sig_reject *rej)
{
    struct hh_strat_rules rules;
    struct hh_sig_reject grej;
    bool parsed;

    for (int f = F_ID; f <= F_TS; f++)   /* a group requires id and ts */
        if (c->f[f].kind == HH_SV_NONE)
            return fail(rej, HH_SIG_MISSING_FIELD, "field '%s' is %s", fld_name[f],
                        c->present & BIT(f) ? "null" : "missing");
    if (!check_type_id(c, rej) || !check_type_clock(c, rej) ||
        !check_type_valid_until(c, rej) || !check_type_texts(c, out, rej))
        return false;
    parsed = hh_group_from_json(root, v->inst, v->cal, g, &grej);
    if (!parsed && grej.reason < HH_SIG_DUPLICATE)
        return fail_as(rej, &grej);
    if (!check_duplicate(v, c, rej))
        return false;
    if (!parsed)
        return fail_as(rej, &grej);
    memset(&rules, 0, sizeof rules);
    rules.allow_naked = v->rules.allow_naked;
    rules.today = hh_time_ist_date(c->recv);
    if (!hh_group_validate(g, &rules, &grej))
        return fail_as(rej, &grej);
    c->iid = g->group.legs[0].iid;
    c->in = hh_inst_get(v->inst, c->iid);
    if (!check_clock(v, c, rej) || !check_session(v, c, rej))
        return false;
    /* What fill_signal() copies and a group has no use for. */
    c->ntgt = 0;
    c->conf = HH_RATIO_SCALE;
    c->side = HH_BUY;
    c->entry.v = c->stop.v = 0;
    c->lots = 0;
    fill_signal(c, rej, lineno, out);
    out->group = true;
    return true;
}

/* ------------------------------------------------------------------ */
/* Parsing                                                             */
/* ------------------------------------------------------------------ */

/* Gate + json-c; *root receives the object (caller puts it). */
static bool parse_line(struct hh_sig_validator *v, const char *line, size_t len,
                       struct json_object **root, struct hh_sig_reject *rej)
{
    const char *text;
    char why[96];
    size_t i = 0, end, top_end;
    int rc;

    while (i < len && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r'))
        i++;
    if (i == len || line[i] != '{')
        return fail(rej, HH_SIG_PARSE_ERROR, "not a JSON object");
    if (len > INT_MAX)
        return fail(rej, HH_SIG_PARSE_ERROR, "line too long");
    rc = hh_sig__gate(line, len, &v->gatebuf, &text, &top_end, why, sizeof why);
    if (rc)
        return fail(rej, HH_SIG_PARSE_ERROR, "%s",
                    rc == HH_ENOMEM ? "out of memory" : why);
    json_tokener_reset(v->tok);
    *root = json_tokener_parse_ex(v->tok, text, (int)len);
    end = json_tokener_get_parse_end(v->tok);
    if (!*root) {
        enum json_tokener_error e = json_tokener_get_error(v->tok);

        if (e == json_tokener_continue)
            return fail(rej, HH_SIG_PARSE_ERROR,
                        "truncated JSON (the line ends inside the object)");
        if (end >= top_end)
            return fail(rej, HH_SIG_PARSE_ERROR, "trailing text after the object at byte %zu",
                        end + 1);
        return fail(rej, HH_SIG_PARSE_ERROR, "invalid JSON: %s at byte %zu",
                    json_tokener_error_desc(e), end + 1);
    }
    if (end != len)
        return fail(rej, HH_SIG_PARSE_ERROR, "trailing text after the object at byte %zu",
                    end + 1);
    if (!json_object_is_type(*root, json_type_object))
        return fail(rej, HH_SIG_PARSE_ERROR, "not a JSON object");
    return true;
}

/*
 * The fields of a line: by the fast scanner when the line has its simple
 * shape, else by gate + json-c (*root then holds the tree; the caller puts
 * it).  A group signal wanted as a group also takes the full road: its legs
 * are read from json-c's tree.
 */
static bool read_fields(struct hh_sig_validator *v, const char *line, size_t len,
                        bool want_group, struct json_object **root, struct line_ctx *c,
                        struct hh_sig_reject *rej)
{
    struct hh_sig__flat flat;

    if (!v->full_road_only && hh_sig__scan(line, len, &flat)) {
        collect_flat(&flat, c);
        if (!want_group || !is_group(c))
            return true;
        ctx_init(c);
    }
    if (!parse_line(v, line, len, root, rej))
        return false;
    collect_json(*root, c);
    return true;
}

bool hh_sig_process(struct hh_sig_validator *v, const char *line, size_t len,
                    uint64_t lineno, hh_time_t now, struct hh_signal *out,
                    struct hh_sig_reject *rej)
{
    return hh_sig_process_any(v, line, len, lineno, now, out, NULL, rej);
}

bool hh_sig_process_any(struct hh_sig_validator *v, const char *line, size_t len,
                        uint64_t lineno, hh_time_t now, struct hh_signal *out,
                        struct hh_group_signal *group, struct hh_sig_reject *rej)
{
    struct json_object *root = NULL;
    struct line_ctx c;
    bool ok;

    memset(rej, 0, sizeof *rej);
    memset(out, 0, sizeof *out);   /* every field defined, accepted or not */
    rej->received_at = now;
    ctx_init(&c);
    ok = read_fields(v, line, len, group != NULL, &root, &c, rej);
    if (ok) {
        if (group && is_group(&c)) {
            identify(v, &c, now, rej);
            ok = validate_group(v, &c, root, lineno, out, group, rej);
        } else {
            ok = validate(v, &c, now, lineno, out, rej);
        }
    }
    json_object_put(root);
    if (ok)
        rej->reason = HH_SIG_NONE;
    return ok;
}

bool hh_sig_line_blank(const char *line, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (line[i] != ' ' && line[i] != '\t' && line[i] != '\r')
            return false;
    return true;
}
