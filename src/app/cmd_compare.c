/*
 * cmd_compare.c — `hedgehog compare`: two runs' outputs, trade by trade
 * (SPEC §10b; the seeds' backtest-accuracy report).
 *
 *   hedgehog compare --a DIR --b DIR [--out FILE]
 *
 * Reads trades.csv, fills.csv and summary.json (formats: SPEC §6) of two
 * output directories — a backtest, a `run --out`, the same run under the
 * other stop policy — and matches their closed trades by signal_id: the
 * n-th trade of an id in one file with the n-th trade of that id in the
 * other (an id trades once, so n is 0 but for re-used ids).  Each trade is
 * identical, different, or present on one side only; for a difference the
 * cause is given when it can be told from the files:
 *
 *   NO_ENTRY      one side never entered (no ENTRY fill for the signal)
 *   OPEN_AT_END   one side entered but had not closed by the end
 *   SIZE          different quantities
 *   ENTRY         entered at another time or price
 *   SQUAREOFF     one side was squared off and the other not, or both at
 *                 different times or prices
 *   EXIT_REASON   otherwise different exit reasons (a target on one side,
 *                 the stop on the other)
 *   STOP_LATER    both stopped out, one later: a held stop executes after
 *                 its level trades, a resting stop fills at it
 *   STOP_PRICE    both stopped out at the same time at different prices
 *
 * Totals come from the summaries (trades, wins, net P&L, max drawdown) with
 * B - A.  The table goes to stdout; --out FILE gets the same as JSON.
 * Prices and money are parsed from their text into fixed-point (core/fixed.h)
 * and never pass through floating point.
 *
 * Exit codes: 0 compared (with or without differences); 1 writing FILE
 * failed; 2 bad usage or an unreadable or malformed input, named with its
 * line and column.
 */
#include "app/cmd.h"
#include "app/common.h"
#include "core/jsonout.h"
#include "core/csv.h"
#include "core/grow.h"
#include "core/lines.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define ME "compare"
const char hh_usage_compare[] =
    "usage: hedgehog compare --a DIR --b DIR [--out FILE]\n";
#define USAGE hh_usage_compare

#define ID_MAX 72          /* signal ids are 1..64 characters (SPEC §4) */
#define CAUSES_MAX 4
#define FIELDS_MAX 32

/* One closed trade, as trades.csv has it. */
struct ctrade {
    char id[ID_MAX];
    size_t seq;                     /* its row in the file (closing order) */
    int occ;                        /* n-th trade of this id in the file */
    char symbol[64], side[8], reason[16];
    char entry_s[40], exit_s[40];   /* the timestamps as written */
    hh_qty_t qty;
    hh_time_t entry_ts, exit_ts;
    hh_price_t entry_price, exit_price;
    hh_money_t net;
};

/* A signal id that has fills, and whether one of them is its entry. */
struct filled {
    char id[ID_MAX];
    bool entry;
};

/* The summary's totals. */
struct totals {
    int64_t trades, wins;
    hh_money_t net, max_dd;
};

/* One run's outputs. */
struct side {
    const char *dir;
    struct ctrade *t;               /* sorted by (id, occ) once read */
    size_t n, cap;
    struct filled *f;               /* sorted by id, unique */
    size_t nf, capf;
    struct totals tot;
};

struct cause {
    const char *code;
    char text[240];
};

/* A trade of A matched with one of B (either may be NULL, not both). */
struct pair {
    const struct ctrade *a, *b;
    bool identical;
    int ncause;
    struct cause cause[CAUSES_MAX];
};

/* ---- reading a CSV output ----------------------------------------------------------------- */

struct csv {
    char path[HH_PATH_MAX + 32];
    struct hh_lines *lr;
    const char *const *cols;        /* the columns wanted (NULL-terminated) ... */
    int ncols;
    int idx[FIELDS_MAX];            /* ... and where the header has them */
    struct hh_field f[FIELDS_MAX];
    int nf;
    char *scratch;                  /* unescaped quoted fields */
    size_t scap;
    uint64_t line;
};

static int csv_open(struct csv *c, const char *dir, const char *name, const char *const *cols,
                    struct hh_diag *d)
{
    const char *line;
    size_t len;
    int rc;

    snprintf(c->path, sizeof c->path, "%s/%s", dir, name);
    c->cols = cols;
    for (c->ncols = 0; cols[c->ncols]; c->ncols++)
        ;
    if ((rc = hh_lines_open(&c->lr, c->path, 0, d)))
        return rc;
    if ((rc = hh_lines_next(c->lr, &line, &len)) != 1)
        return hh_diag_set(d, HH_EHEADER, "%s: no header line", c->path);
    if (hh_csv_header(line, len, cols, c->ncols, c->idx) < 0)
        return hh_diag_set(d, HH_EHEADER, "%s:1: malformed header", c->path);
    for (int k = 0; k < c->ncols; k++)
        if (c->idx[k] < 0 || c->idx[k] >= FIELDS_MAX)
            return hh_diag_set(d, HH_EHEADER, "%s:1: no column '%s'", c->path, cols[k]);
    return HH_OK;
}

/* The next non-blank row: 1, 0 at the end, or an error. */
static int csv_row(struct csv *c, struct hh_diag *d)
{
    const char *line;
    size_t len;
    int rc;

    do {
        if ((rc = hh_lines_next(c->lr, &line, &len)) <= 0)
            return rc == 0 ? 0 : hh_diag_set(d, HH_EIO, "%s:%llu: unreadable line", c->path,
                                             (unsigned long long)hh_lines_lineno(c->lr));
    } while (len == 0);
    c->line = hh_lines_lineno(c->lr);
    if (len > c->scap && hh_grow(&c->scratch, &c->scap, len, 1))
        return hh_diag_set(d, HH_ENOMEM, "out of memory");
    c->nf = hh_csv_split(line, len, c->f, FIELDS_MAX, c->scratch);
    for (int k = 0; k < c->ncols; k++)
        if (c->nf <= c->idx[k])   /* also an unterminated quote (nf < 0) */
            return hh_diag_set(d, HH_ESYNTAX, "%s:%llu: malformed row", c->path,
                               (unsigned long long)c->line);
    return 1;
}

static void csv_close(struct csv *c)
{
    hh_lines_close(c->lr);
    free(c->scratch);
}

static int bad_field(const struct csv *c, int k, const char *what, struct hh_diag *d)
{
    struct hh_field f = c->f[c->idx[k]];

    return hh_diag_set(d, HH_ESYNTAX, "%s:%llu: column '%s': '%.*s' is not %s", c->path,
                       (unsigned long long)c->line, c->cols[k], (int)(f.n > 40 ? 40 : f.n),
                       f.p, what);
}

static int get_text(const struct csv *c, int k, char *dst, size_t cap, struct hh_diag *d)
{
    struct hh_field f = c->f[c->idx[k]];

    if (f.n == 0 || f.n >= cap)
        return bad_field(c, k, "a value of a sensible length", d);
    memcpy(dst, f.p, f.n);
    dst[f.n] = '\0';
    return HH_OK;
}

/* Exact decimal with `digits` places (prices and money: HH_FX_DIGITS). */
static int get_dec(const struct csv *c, int k, int digits, int64_t *out, struct hh_diag *d)
{
    struct hh_field f = c->f[c->idx[k]];

    if (hh_dec_parse(f.p, f.n, digits, 0, out))
        return bad_field(c, k, "an exact number", d);
    return HH_OK;
}

static int get_ts(const struct csv *c, int k, char *text, size_t cap, hh_time_t *out,
                  struct hh_diag *d)
{
    struct hh_field f = c->f[c->idx[k]];

    if (get_text(c, k, text, cap, d) || hh_time_parse(f.p, f.n, out, NULL))
        return bad_field(c, k, "a timestamp", d);
    return HH_OK;
}

/* ---- the three files -------------------------------------------------------------------- */

enum { T_ID, T_SYMBOL, T_SIDE, T_QTY, T_ENTRY_TS, T_ENTRY, T_EXIT_TS, T_EXIT, T_REASON, T_NET };

static int trade_row(const struct csv *c, struct ctrade *t, struct hh_diag *d)
{
    int rc;

    memset(t, 0, sizeof *t);
    if ((rc = get_text(c, T_ID, t->id, sizeof t->id, d)) ||
        (rc = get_text(c, T_SYMBOL, t->symbol, sizeof t->symbol, d)) ||
        (rc = get_text(c, T_SIDE, t->side, sizeof t->side, d)) ||
        (rc = get_dec(c, T_QTY, 0, &t->qty, d)) ||
        (rc = get_ts(c, T_ENTRY_TS, t->entry_s, sizeof t->entry_s, &t->entry_ts, d)) ||
        (rc = get_dec(c, T_ENTRY, HH_FX_DIGITS, &t->entry_price, d)) ||
        (rc = get_ts(c, T_EXIT_TS, t->exit_s, sizeof t->exit_s, &t->exit_ts, d)) ||
        (rc = get_dec(c, T_EXIT, HH_FX_DIGITS, &t->exit_price, d)) ||
        (rc = get_text(c, T_REASON, t->reason, sizeof t->reason, d)) ||
        (rc = get_dec(c, T_NET, HH_FX_DIGITS, &t->net, d)))
        return rc;
    return HH_OK;
}

static int by_id_seq(const void *x, const void *y)
{
    const struct ctrade *a = x, *b = y;
    int c = strcmp(a->id, b->id);

    return c ? c : (a->seq > b->seq) - (a->seq < b->seq);
}

static int read_trades(struct side *s, struct hh_diag *d)
{
    static const char *const cols[] = { "signal_id", "symbol", "side", "qty", "entry_ts",
                                        "entry_price", "exit_ts", "avg_exit_price",
                                        "exit_reason", "net_pnl", NULL };
    struct csv c = { .lr = NULL };
    int rc = csv_open(&c, s->dir, "trades.csv", cols, d);

    while (!rc && (rc = csv_row(&c, d)) == 1) {
        if ((rc = hh_grow(&s->t, &s->cap, s->n + 1, sizeof *s->t)))
            break;
        if ((rc = trade_row(&c, &s->t[s->n], d)))
            break;
        s->t[s->n].seq = s->n;
        s->n++;
    }
    csv_close(&c);
    if (rc)
        return rc == HH_ENOMEM ? hh_diag_set(d, rc, "out of memory") : rc;
    qsort(s->t, s->n, sizeof *s->t, by_id_seq);
    for (size_t i = 1; i < s->n; i++)
        if (!strcmp(s->t[i].id, s->t[i - 1].id))
            s->t[i].occ = s->t[i - 1].occ + 1;
    return HH_OK;
}

static int by_fid(const void *x, const void *y)
{
    return strcmp(((const struct filled *)x)->id, ((const struct filled *)y)->id);
}

/* Sort the fill ids and merge duplicates (an id entered if any fill was). */
static void unique_fills(struct side *s)
{
    size_t w = 0;

    qsort(s->f, s->nf, sizeof *s->f, by_fid);
    for (size_t i = 0; i < s->nf; i++) {
        if (w && !strcmp(s->f[w - 1].id, s->f[i].id))
            s->f[w - 1].entry |= s->f[i].entry;
        else
            s->f[w++] = s->f[i];
    }
    s->nf = w;
}

static int read_fills(struct side *s, struct hh_diag *d)
{
    static const char *const cols[] = { "signal_id", "reason", NULL };
    struct csv c = { .lr = NULL };
    char reason[32];
    int rc = csv_open(&c, s->dir, "fills.csv", cols, d);

    while (!rc && (rc = csv_row(&c, d)) == 1) {
        if ((rc = hh_grow(&s->f, &s->capf, s->nf + 1, sizeof *s->f)))
            break;
        if ((rc = get_text(&c, 0, s->f[s->nf].id, ID_MAX, d)) ||
            (rc = get_text(&c, 1, reason, sizeof reason, d)))
            break;
        s->f[s->nf++].entry = !strcmp(reason, "ENTRY");
    }
    csv_close(&c);
    if (rc)
        return rc == HH_ENOMEM ? hh_diag_set(d, rc, "out of memory") : rc;
    unique_fills(s);
    return HH_OK;
}

/* A number of the summary, exactly: its JSON text into fixed-point. */
static int summary_num(struct json_object *o, const char *path, const char *key, int digits,
                       int64_t *out, struct hh_diag *d)
{
    struct json_object *v;
    const char *text;

    if (!json_object_object_get_ex(o, key, &v) ||
        (json_object_get_type(v) != json_type_int && json_object_get_type(v) != json_type_double))
        return hh_diag_set(d, HH_ESYNTAX, "%s: no number '%s'", path, key);
    text = json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN);
    if (hh_dec_parse(text, strlen(text), digits, HH_DEC_EXP, out))
        return hh_diag_set(d, HH_ESYNTAX, "%s: '%s' is not an exact number: %s", path, key, text);
    return HH_OK;
}

static int read_summary(struct side *s, struct hh_diag *d)
{
    char path[HH_PATH_MAX + 32];
    struct json_object *o;
    int rc;

    snprintf(path, sizeof path, "%s/summary.json", s->dir);
    o = json_object_from_file(path);
    if (!o || !json_object_is_type(o, json_type_object)) {
        json_object_put(o);
        return hh_diag_set(d, HH_ESYNTAX, "%s: not readable as a JSON object", path);
    }
    if (!(rc = summary_num(o, path, "trades", 0, &s->tot.trades, d)) &&
        !(rc = summary_num(o, path, "wins", 0, &s->tot.wins, d)) &&
        !(rc = summary_num(o, path, "net_pnl", HH_FX_DIGITS, &s->tot.net, d)))
        rc = summary_num(o, path, "max_drawdown", HH_FX_DIGITS, &s->tot.max_dd, d);
    json_object_put(o);
    return rc;
}

static int read_side(struct side *s, struct hh_diag *d)
{
    int rc;

    if ((rc = read_trades(s, d)) || (rc = read_fills(s, d)))
        return rc;
    return read_summary(s, d);
}

static void side_free(struct side *s)
{
    free(s->t);
    free(s->f);
}

/* ---- matching and causes ---------------------------------------------------------------- */

static const struct filled *fills_of(const struct side *s, const char *id)
{
    struct filled key;

    snprintf(key.id, sizeof key.id, "%s", id);
    return bsearch(&key, s->f, s->nf, sizeof *s->f, by_fid);
}

/* "60", "0.25", "-1.5": ns as seconds, exactly, without trailing zeros. */
static const char *secs(char *buf, size_t cap, int64_t ns)
{
    size_t n = hh_dec_format(buf, cap, ns, 9, 9);

    while (n > 0 && buf[n - 1] == '0')
        buf[--n] = '\0';
    if (n > 0 && buf[n - 1] == '.')
        buf[--n] = '\0';
    return buf;
}

/* Money or a price: two places when it is whole paise, else four. */
static const char *money(char *buf, size_t cap, int64_t v)
{
    hh_fx_format(buf, cap, v, v % HH_PAISA ? HH_FX_DIGITS : 2);
    return buf;
}

static void add_cause(struct pair *p, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void add_cause(struct pair *p, const char *code, const char *fmt, ...)
{
    va_list ap;

    if (p->ncause >= CAUSES_MAX)
        return;
    p->cause[p->ncause].code = code;
    va_start(ap, fmt);
    vsnprintf(p->cause[p->ncause].text, sizeof p->cause[0].text, fmt, ap);
    va_end(ap);
    p->ncause++;
}

/* A trade on one side only: did the other side enter at all? */
static void explain_missing(struct pair *p, const struct side *other, const char *name)
{
    const struct ctrade *t = p->a ? p->a : p->b;
    const struct filled *f = fills_of(other, t->id);

    if (f && f->entry)
        add_cause(p, "OPEN_AT_END", "%s entered but had not closed the trade by the end", name);
    else
        add_cause(p, "NO_ENTRY", "%s never entered (no ENTRY fill for the signal)", name);
}

/* "60 s later", "1.5 s earlier", "at the same time": B's time against A's. */
static const char *when(char *buf, size_t cap, int64_t b_minus_a)
{
    char t[40];

    if (!b_minus_a)
        snprintf(buf, cap, "at the same time");
    else
        snprintf(buf, cap, "%s s %s", secs(t, sizeof t, b_minus_a < 0 ? -b_minus_a : b_minus_a),
                 b_minus_a < 0 ? "earlier" : "later");
    return buf;
}

static void explain_exit(struct pair *p)
{
    const struct ctrade *a = p->a, *b = p->b;
    bool sq_a = !strcmp(a->reason, "SQUAREOFF"), sq_b = !strcmp(b->reason, "SQUAREOFF");
    char w[60], pa[40], pb[40];

    if (strcmp(a->reason, b->reason)) {
        if (sq_a || sq_b)
            add_cause(p, "SQUAREOFF", "%s was squared off, %s exited by %s", sq_a ? "A" : "B",
                      sq_a ? "B" : "A", sq_a ? b->reason : a->reason);
        else
            add_cause(p, "EXIT_REASON", "exit reason %s in A, %s in B", a->reason, b->reason);
        return;
    }
    if (a->exit_ts == b->exit_ts && a->exit_price == b->exit_price)
        return;
    money(pa, sizeof pa, a->exit_price);
    money(pb, sizeof pb, b->exit_price);
    if (sq_a)
        add_cause(p, "SQUAREOFF", "B's square-off filled %s, at %s (A %s)",
                  when(w, sizeof w, b->exit_ts - a->exit_ts), pb, pa);
    else if (!strcmp(a->reason, "STOP") && a->exit_ts != b->exit_ts)
        add_cause(p, "STOP_LATER", "B's stop filled %s than A's, at %s (A %s): a held stop "
                  "executes after its level trades, a resting stop fills at it",
                  when(w, sizeof w, b->exit_ts - a->exit_ts), pb, pa);
    else if (!strcmp(a->reason, "STOP"))
        add_cause(p, "STOP_PRICE", "both stops filled at the same time, at %s in A and %s in B",
                  pa, pb);
}

static void explain_both(struct pair *p)
{
    const struct ctrade *a = p->a, *b = p->b;
    char w[60], pa[40], pb[40];

    p->identical = a->qty == b->qty && a->entry_ts == b->entry_ts &&
                   a->entry_price == b->entry_price && a->exit_ts == b->exit_ts &&
                   a->exit_price == b->exit_price && a->net == b->net &&
                   !strcmp(a->reason, b->reason) && !strcmp(a->symbol, b->symbol) &&
                   !strcmp(a->side, b->side);
    if (p->identical)
        return;
    if (a->qty != b->qty)
        add_cause(p, "SIZE", "quantity %lld in A, %lld in B", (long long)a->qty,
                  (long long)b->qty);
    if (a->entry_ts != b->entry_ts || a->entry_price != b->entry_price)
        add_cause(p, "ENTRY", "B entered %s, at %s (A %s)",
                  when(w, sizeof w, b->entry_ts - a->entry_ts),
                  money(pb, sizeof pb, b->entry_price), money(pa, sizeof pa, a->entry_price));
    explain_exit(p);
}

static void explain(struct pair *p, const struct side *A, const struct side *B)
{
    if (p->a && p->b)
        explain_both(p);
    else if (p->a)
        explain_missing(p, B, "B");
    else
        explain_missing(p, A, "A");
}

static int key_cmp(const struct ctrade *a, const struct ctrade *b)
{
    int c = strcmp(a->id, b->id);

    return c ? c : (a->occ > b->occ) - (a->occ < b->occ);
}

/* Pairs in chronological order: by entry time, then id. */
static int by_entry(const void *x, const void *y)
{
    const struct pair *p = x, *q = y;
    const struct ctrade *s = p->a ? p->a : p->b, *t = q->a ? q->a : q->b;

    if (s->entry_ts != t->entry_ts)
        return s->entry_ts < t->entry_ts ? -1 : 1;
    return key_cmp(s, t);
}

/* Merge the two sorted trade lists into pairs (*out: n <= A.n + B.n). */
static int match(const struct side *A, const struct side *B, struct pair **out, size_t *n)
{
    struct pair *p = calloc(A->n + B->n + 1, sizeof *p);
    size_t i = 0, j = 0;

    if (!p)
        return HH_ENOMEM;
    *n = 0;
    while (i < A->n || j < B->n) {
        int c = i == A->n ? 1 : j == B->n ? -1 : key_cmp(&A->t[i], &B->t[j]);

        p[*n].a = c <= 0 ? &A->t[i++] : NULL;
        p[*n].b = c >= 0 ? &B->t[j++] : NULL;
        explain(&p[*n], A, B);
        (*n)++;
    }
    qsort(p, *n, sizeof *p, by_entry);
    *out = p;
    return HH_OK;
}

/* ---- the table -------------------------------------------------------------------------- */

/* v with a sign: "+60", "-18.31" (money) or "+0". */
static const char *signed_money(char *buf, size_t cap, int64_t v)
{
    buf[0] = '+';
    money(buf + (v > 0), cap - 1, v);
    return buf;
}

static const char *signed_int(char *buf, size_t cap, int64_t v)
{
    snprintf(buf, cap, v > 0 ? "+%lld" : "%lld", (long long)v);
    return buf;
}

/* ns as signed seconds: "+60 s", "-0.5 s", "0 s". */
static const char *signed_secs(char *buf, size_t cap, int64_t ns)
{
    size_t n;

    buf[0] = '+';
    secs(buf + (ns > 0), cap - 3, ns);
    n = strlen(buf);
    memcpy(buf + n, " s", 3);
    return buf;
}

static void print_trade(FILE *f, const char *mark, const struct ctrade *t)
{
    char ep[40], xp[40], net[40];

    fprintf(f, "%-3s %-24s %-12s %-4s %7lld  %-25s %10s  %-25s %10s  %-9s %12s\n", mark, t->id,
            t->symbol, t->side, (long long)t->qty, t->entry_s,
            money(ep, sizeof ep, t->entry_price), t->exit_s, money(xp, sizeof xp, t->exit_price),
            t->reason, money(net, sizeof net, t->net));
}

static void print_pair(FILE *f, const struct pair *p)
{
    char q[40], es[40], ep[40], xs[40], xp[40], net[40];

    if (p->identical) {
        print_trade(f, "=", p->a);
        return;
    }
    if (p->a)
        print_trade(f, p->b ? "*A" : "A", p->a);
    if (p->b)
        print_trade(f, p->a ? "*B" : "B", p->b);
    if (p->a && p->b)
        fprintf(f, "    B - A: qty %s, entry %s %s, exit %s %s, net %s\n",
                signed_int(q, sizeof q, p->b->qty - p->a->qty),
                signed_secs(es, sizeof es, p->b->entry_ts - p->a->entry_ts),
                signed_money(ep, sizeof ep, p->b->entry_price - p->a->entry_price),
                signed_secs(xs, sizeof xs, p->b->exit_ts - p->a->exit_ts),
                signed_money(xp, sizeof xp, p->b->exit_price - p->a->exit_price),
                signed_money(net, sizeof net, p->b->net - p->a->net));
    for (int i = 0; i < p->ncause; i++)
        fprintf(f, "    cause %s: %s\n", p->cause[i].code, p->cause[i].text);
    if (p->a && p->b && !p->ncause)
        fprintf(f, "    cause unknown\n");
}

/* Counts of the pairs by kind: both, identical, only in A, only in B. */
struct counts {
    size_t both, identical, only_a, only_b;
};

static struct counts count(const struct pair *p, size_t n)
{
    struct counts c = { .both = 0 };

    for (size_t i = 0; i < n; i++) {
        c.both += p[i].a && p[i].b;
        c.identical += p[i].identical;
        c.only_a += !p[i].b;
        c.only_b += !p[i].a;
    }
    return c;
}

static void print_total(FILE *f, const char *name, int64_t a, int64_t b, bool is_money)
{
    char x[40], y[40], z[40];

    if (is_money)
        fprintf(f, "  %-14s %14s %14s %14s\n", name, money(x, sizeof x, a),
                money(y, sizeof y, b), signed_money(z, sizeof z, b - a));
    else
        fprintf(f, "  %-14s %14lld %14lld %14s\n", name, (long long)a, (long long)b,
                signed_int(z, sizeof z, b - a));
}

static void print_table(FILE *f, const struct side *A, const struct side *B,
                        const struct pair *p, size_t n)
{
    struct counts c = count(p, n);

    fprintf(f, "A: %s\nB: %s\n", A->dir, B->dir);
    fprintf(f, "trades: %zu in both (%zu identical, %zu different), %zu only in A, "
            "%zu only in B\n\n", c.both, c.identical, c.both - c.identical, c.only_a, c.only_b);
    fprintf(f, "%-3s %-24s %-12s %-4s %7s  %-25s %10s  %-25s %10s  %-9s %12s\n", "", "signal_id",
            "symbol", "side", "qty", "entry_ts", "entry", "exit_ts", "avg_exit", "reason",
            "net_pnl");
    for (size_t i = 0; i < n; i++)
        print_pair(f, &p[i]);
    fprintf(f, "\n(= identical; *A/*B the two sides of a difference; A or B: only in that run)"
            "\n\n  %-14s %14s %14s %14s\n", "totals", "A", "B", "B - A");
    print_total(f, "trades", A->tot.trades, B->tot.trades, false);
    print_total(f, "wins", A->tot.wins, B->tot.wins, false);
    print_total(f, "net_pnl", A->tot.net, B->tot.net, true);
    print_total(f, "max_drawdown", A->tot.max_dd, B->tot.max_dd, true);
}

/* ---- the JSON document ------------------------------------------------------------------ */

static void json_trade(FILE *f, const char *name, const struct ctrade *t)
{
    char ep[40], xp[40], net[40];

    fprintf(f, ",\n   \"%s\": ", name);
    if (!t) {
        fputs("null", f);
        return;
    }
    fputs("{\"symbol\": ", f);
    hh_json_put_str(f, t->symbol);
    fputs(", \"side\": ", f);
    hh_json_put_str(f, t->side);
    fprintf(f, ", \"qty\": %lld, \"entry_ts\": ", (long long)t->qty);
    hh_json_put_str(f, t->entry_s);
    fprintf(f, ", \"entry_price\": %s, \"exit_ts\": ", money(ep, sizeof ep, t->entry_price));
    hh_json_put_str(f, t->exit_s);
    fprintf(f, ", \"avg_exit_price\": %s, \"exit_reason\": ", money(xp, sizeof xp, t->exit_price));
    hh_json_put_str(f, t->reason);
    fprintf(f, ", \"net_pnl\": %s}", money(net, sizeof net, t->net));
}

static void json_difference(FILE *f, const struct ctrade *a, const struct ctrade *b)
{
    char es[40], ep[40], xs[40], xp[40], net[40];

    if (!a || !b) {
        fputs(",\n   \"difference\": null", f);
        return;
    }
    fprintf(f, ",\n   \"difference\": {\"qty\": %lld, \"entry_s\": %s, \"entry_price\": %s, "
            "\"exit_s\": %s, \"avg_exit_price\": %s, \"net_pnl\": %s}",
            (long long)(b->qty - a->qty), secs(es, sizeof es, b->entry_ts - a->entry_ts),
            money(ep, sizeof ep, b->entry_price - a->entry_price),
            secs(xs, sizeof xs, b->exit_ts - a->exit_ts),
            money(xp, sizeof xp, b->exit_price - a->exit_price),
            money(net, sizeof net, b->net - a->net));
}

static void json_pair(FILE *f, const struct pair *p, bool first)
{
    const struct ctrade *t = p->a ? p->a : p->b;
    const char *status = p->identical ? "identical" : !p->b ? "only_a" : !p->a ? "only_b"
                                                                         : "different";

    fprintf(f, "%s\n  {\"signal_id\": ", first ? "" : ",");
    hh_json_put_str(f, t->id);
    fprintf(f, ", \"status\": \"%s\"", status);
    json_trade(f, "a", p->a);
    json_trade(f, "b", p->b);
    json_difference(f, p->a, p->b);
    fputs(",\n   \"causes\": [", f);
    for (int i = 0; i < p->ncause; i++) {
        fprintf(f, "%s{\"code\": \"%s\", \"text\": ", i ? ", " : "", p->cause[i].code);
        hh_json_put_str(f, p->cause[i].text);
        fputc('}', f);
    }
    fputs("]}", f);
}

static void json_totals(FILE *f, const char *name, const struct totals *t, bool last)
{
    char net[40], dd[40];

    fprintf(f, "   \"%s\": {\"trades\": %lld, \"wins\": %lld, \"net_pnl\": %s, "
            "\"max_drawdown\": %s}%s\n", name, (long long)t->trades, (long long)t->wins,
            money(net, sizeof net, t->net), money(dd, sizeof dd, t->max_dd), last ? "" : ",");
}

static void write_json(FILE *f, const struct side *A, const struct side *B,
                       const struct pair *p, size_t n)
{
    struct counts c = count(p, n);
    struct totals diff = {
        .trades = B->tot.trades - A->tot.trades,
        .wins = B->tot.wins - A->tot.wins,
        .net = B->tot.net - A->tot.net,
        .max_dd = B->tot.max_dd - A->tot.max_dd,
    };

    fputs("{\n \"a\": ", f);
    hh_json_put_str(f, A->dir);
    fputs(",\n \"b\": ", f);
    hh_json_put_str(f, B->dir);
    fprintf(f, ",\n \"in_both\": %zu,\n \"identical\": %zu,\n \"different\": %zu,\n"
            " \"only_a\": %zu,\n \"only_b\": %zu,\n \"trades\": [", c.both, c.identical,
            c.both - c.identical, c.only_a, c.only_b);
    for (size_t i = 0; i < n; i++)
        json_pair(f, &p[i], i == 0);
    fputs("\n ],\n \"totals\": {\n", f);
    json_totals(f, "a", &A->tot, false);
    json_totals(f, "b", &B->tot, false);
    json_totals(f, "difference", &diff, true);
    fputs(" }\n}\n", f);
}

static int save_json(const char *path, const struct side *A, const struct side *B,
                     const struct pair *p, size_t n)
{
    struct hh_diag d = { .msg = "" };
    FILE *f = fopen(path, "w");

    if (!f)
        return hh_app_say(ME, NULL, HH_EXIT_USAGE, "%s: cannot create: %s", path,
                          strerror(errno));
    write_json(f, A, B, p, n);
    if (hh_app_close(f, path, &d))
        return hh_app_say(ME, NULL, HH_EXIT_FAIL, "%s", d.msg);
    return HH_EXIT_OK;
}

int hh_cmd_compare(int argc, char **argv)
{
    const char *a, *b, *out;
    const struct hh_opt opts[] = {
        { .name = "--a", .value = &a, .required = true },
        { .name = "--b", .value = &b, .required = true },
        { .name = "--out", .value = &out },
    };
    struct side A = { .dir = NULL }, B = { .dir = NULL };
    struct hh_diag d = { .msg = "" };
    struct pair *p = NULL;
    size_t n = 0;
    int code;

    if (hh_app_parse(ME, USAGE, argc, argv, opts, 3))
        return HH_EXIT_USAGE;
    A.dir = a;
    B.dir = b;
    if (read_side(&A, &d) || read_side(&B, &d)) {
        code = hh_app_say(ME, NULL, HH_EXIT_USAGE, "%s", d.msg);
        goto out;
    }
    if (match(&A, &B, &p, &n)) {
        code = hh_app_say(ME, NULL, HH_EXIT_FAIL, "out of memory");
        goto out;
    }
    print_table(stdout, &A, &B, p, n);
    code = out ? save_json(out, &A, &B, p, n) : HH_EXIT_OK;
    if (fflush(stdout) && code == HH_EXIT_OK)
        code = HH_EXIT_FAIL;
out:
    free(p);
    side_free(&A);
    side_free(&B);
    return code;
}
