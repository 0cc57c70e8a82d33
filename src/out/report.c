/*
 * report.c — the accumulator behind report.html and the page writer.
 *
 * See report.h for the contract: what is kept (and the caps that bound
 * memory), how times are shifted for the chart, how text is escaped and
 * where the chart library comes from.
 *
 * Invariants:
 *   - a symbol's stored candles are in strictly increasing chart time; every
 *     stored candle but the last covers exactly `k` source candles, the last
 *     covers 1..k.  The last one (the group still open, `cur`) lives in the
 *     symbol's state, the complete ones in c[]: a candle that folds into
 *     its group touches no array, and a group is written to c[] once,
 *     when the next one starts;
 *   - the equity points likewise, with their own `k`;
 *   - a charted symbol's markers are sorted by time (insertion keeps them
 *     so; fills arrive in time order, so this costs nothing in practice);
 *   - syms[] holds at most HH_REP_TRACK_MAX symbols; once HH_REP_SYMBOLS_MAX
 *     of them are charted it holds only those;
 *   - a symbol is its instrument id: slot[iid] is its index in syms[] + 1,
 *     0 when it is not tracked (so a candle finds its symbol with one load,
 *     never comparing names).
 *
 * The page is written deterministically: the same calls give the same
 * bytes (no generation time, no locale-dependent formatting).
 */
#include "out/report.h"

#include "core/grow.h"
#include "core/jsonout.h"
#include "core/fixed.h"
#include "core/time.h"

#include <errno.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define REP_LIB_MAX       (16u << 20)   /* refuse a larger "library" file */
#define REP_TEXT_MARKERS  300           /* markers get text up to this many */
#define REP_STR_(x)       #x
#define REP_STR(x)        REP_STR_(x)
#define REP_IST_SECONDS   (HH_IST_OFFSET / HH_NS_PER_S)

/* One stored candle; times are chart seconds (UTC seconds + 05:30). */
struct rep_candle {
    int64_t t;                      /* start of its first source candle */
    hh_price_t o, h, l, c;
    hh_qty_t v;                     /* summed volume */
};

/* One stored equity point. */
struct rep_point {
    int64_t t;                      /* chart seconds of its last source point */
    hh_money_t v;                   /* equity after that point */
    uint64_t n;                     /* source points it stands for */
};

/* One fill to be marked on a chart. */
struct rep_marker {
    int64_t t;                      /* chart seconds of the fill */
    uint32_t trade_id;
    int8_t side;                    /* enum hh_side */
    uint8_t reason;                 /* enum hh_fill_reason */
    hh_qty_t qty;
    hh_price_t price;
};

struct rep_sym {
    hh_iid_t iid;                   /* the symbol's instrument */
    char *name;                     /* owned */
    struct rep_candle *c;           /* complete groups: nc used of
                                       HH_REP_CANDLES_MAX, nc < it between calls */
    size_t nc;
    struct rep_candle cur;          /* the last stored candle, open ... */
    uint64_t cur_n;                 /* ... of 1..k source candles; 0: none yet */
    uint64_t k;                     /* source candles per stored candle */
    int64_t last_src;               /* chart seconds of the last source candle */
    uint64_t candles_in;            /* source candles taken */
    uint64_t candles_late;          /* dropped: earlier than the previous one */
    int chart;                      /* 0.. in order of first fill; -1 none */
    struct rep_marker *m;           /* nm used of mcap, nm <= HH_REP_MARKERS_MAX */
    size_t nm, mcap;
    uint64_t fills;                 /* all fills of the symbol */
};

/* A symbol with fills that is not charted. */
struct rep_other {
    hh_iid_t iid;
    char *name;                     /* owned */
    uint64_t fills;
};

/* One trade-table row (the trade's signal pointer is not kept). */
struct rep_trade {
    struct hh_tm_trade t;           /* t.sig == NULL */
    char *symbol;                   /* owned */
    char sig_id[HH_SIG_ID_MAX];
};

struct hh_rep {
    struct rep_sym *syms[HH_REP_TRACK_MAX];
    size_t nsyms;
    uint8_t *slot;                  /* by iid: index in syms[] + 1, 0 untracked */
    size_t nslot;
    size_t ncharted;                /* symbols with chart >= 0 */
    uint64_t candles_untracked;     /* candles of symbols not tracked */

    struct rep_other others[HH_REP_OTHERS_MAX];
    size_t nothers;
    uint64_t others_more;           /* fills of uncharted symbols not named */

    struct rep_trade *tr;           /* ntr used of trcap, ntr <= HH_REP_TRADES_MAX */
    size_t ntr, trcap;
    uint64_t trades_total;

    struct rep_point *eq;           /* neq used of eqcap, neq <= HH_REP_EQUITY_MAX */
    size_t neq, eqcap;
    uint64_t eqk;                   /* source points per stored point */
    int64_t eq_last_src;
    uint64_t eq_in;
};

/* ---- accumulation ---------------------------------------------------- */

/* Chart seconds: floor(ts / 1 s) shifted by +05:30. */
static int64_t chart_sec(hh_time_t ts)
{
    int64_t s = ts / HH_NS_PER_S;

    if (ts % HH_NS_PER_S < 0)
        s--;
    return s + REP_IST_SECONDS;
}

static int64_t sat_add(int64_t a, int64_t b)
{
    int64_t s;

    if (__builtin_add_overflow(a, b, &s))
        return b > 0 ? INT64_MAX : INT64_MIN;
    return s;
}

/* Grow *p (element size sz) so that it holds at least need of them, at most
 * max; doubling from 64. */
static int grow(void **p, size_t *cap, size_t need, size_t max, size_t sz)
{
    size_t n = *cap ? *cap : 64;
    void *q;

    if (need <= *cap)
        return HH_OK;
    while (n < need)
        n *= 2;
    if (n > max)
        n = max;
    q = realloc(*p, n * sz);
    if (!q)
        return HH_ENOMEM;
    *p = q;
    *cap = n;
    return HH_OK;
}

struct hh_rep *hh_rep_new(void)
{
    struct hh_rep *r = calloc(1, sizeof *r);

    if (r)
        r->eqk = 1;
    return r;
}

static void sym_free(struct rep_sym *s)
{
    if (!s)
        return;
    free(s->name);
    free(s->c);
    free(s->m);
    free(s);
}

void hh_rep_free(struct hh_rep *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->nsyms; i++)
        sym_free(r->syms[i]);
    for (size_t i = 0; i < r->nothers; i++)
        free(r->others[i].name);
    for (size_t i = 0; i < r->ntr; i++)
        free(r->tr[i].symbol);
    free(r->tr);
    free(r->eq);
    free(r->slot);
    free(r);
}

static struct rep_sym *sym_find(const struct hh_rep *r, hh_iid_t iid)
{
    return iid < r->nslot && r->slot[iid] ? r->syms[r->slot[iid] - 1] : NULL;
}

/* syms[i] moved there (or arrived): its slot follows. */
static void slot_set(struct hh_rep *r, size_t i)
{
    r->slot[r->syms[i]->iid] = (uint8_t)(i + 1);
}

/* Track a new symbol (the caller checked there is room). */
static struct rep_sym *sym_add(struct hh_rep *r, hh_iid_t iid, const char *name)
{
    size_t had = r->nslot;
    struct rep_sym *s;

    HH_ASSERT(r->nsyms < HH_REP_TRACK_MAX && HH_REP_TRACK_MAX < UINT8_MAX);
    if (iid >= r->nslot) {
        if (hh_grow(&r->slot, &r->nslot, (size_t)iid + 1, sizeof *r->slot))
            return NULL;
        memset(r->slot + had, 0, r->nslot - had);
    }
    s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->name = strdup(name);
    if (!s->name) {
        free(s);
        return NULL;
    }
    s->iid = iid;
    s->k = 1;
    s->chart = -1;
    r->syms[r->nsyms++] = s;
    slot_set(r, r->nsyms - 1);
    return s;
}

/* Stop tracking syms[i] (its slot is cleared; the caller fills the hole). */
static void sym_drop(struct hh_rep *r, size_t i)
{
    r->slot[r->syms[i]->iid] = 0;
    sym_free(r->syms[i]);
}

/* Once the charts are all taken, release the candles of everything else. */
static void release_uncharted(struct hh_rep *r)
{
    size_t j = 0;

    for (size_t i = 0; i < r->nsyms; i++) {
        if (r->syms[i]->chart >= 0) {
            r->syms[j] = r->syms[i];
            slot_set(r, j++);
        } else {
            sym_drop(r, i);
        }
    }
    r->nsyms = j;
}

/* Stored candles: the complete groups c[0..nc), then the open one. */
static size_t stored(const struct rep_sym *s)
{
    return s->nc + (s->cur_n > 0);
}

static const struct rep_candle *stored_at(const struct rep_sym *s, size_t j)
{
    return j < s->nc ? &s->c[j] : &s->cur;
}

/* Merge adjacent pairs of the complete groups (all of them: a full buffer
 * and the open group just added to it); k doubles. */
static void candles_halve(struct rep_sym *s)
{
    size_t j = 0;

    HH_ASSERT(s->nc % 2 == 0);
    for (size_t i = 0; i + 1 < s->nc; i += 2) {
        const struct rep_candle *a = &s->c[i], *b = &s->c[i + 1];
        struct rep_candle m = *a;

        m.h = a->h > b->h ? a->h : b->h;
        m.l = a->l < b->l ? a->l : b->l;
        m.c = b->c;
        m.v = sat_add(a->v, b->v);
        s->c[j++] = m;
    }
    s->nc = j;
    s->k *= 2;
}

int hh_rep_candle(struct hh_rep *r, hh_iid_t iid, const char *symbol, hh_time_t ts,
                  hh_price_t o, hh_price_t h, hh_price_t l, hh_price_t c, hh_qty_t volume)
{
    struct rep_sym *s = sym_find(r, iid);
    int64_t t = chart_sec(ts);
    struct rep_candle *cur;

    if (!s) {
        if (r->ncharted >= HH_REP_SYMBOLS_MAX || r->nsyms >= HH_REP_TRACK_MAX) {
            r->candles_untracked++;
            return HH_OK;
        }
        s = sym_add(r, iid, symbol);
        if (!s)
            return HH_ENOMEM;
    }
    cur = &s->cur;
    if (s->cur_n && t < s->last_src) {
        s->candles_late++;
        return HH_OK;
    }
    s->candles_in++;
    if (s->cur_n && (t == s->last_src || s->cur_n < s->k)) {
        /* Same second as the previous candle, or the last group is not
         * complete yet: fold into it (max and min written unconditionally:
         * branches on prices mispredict) */
        cur->h = h > cur->h ? h : cur->h;
        cur->l = l < cur->l ? l : cur->l;
        cur->c = c;
        cur->v = sat_add(cur->v, volume);
        if (t != s->last_src)
            s->cur_n++;
        s->last_src = t;
        return HH_OK;
    }
    if (s->cur_n) {
        /* The open group is complete: it joins c[], which is halved when
         * that makes HH_REP_CANDLES_MAX stored candles. */
        if (!s->c) {
            /* Its full size at once: the pages are only resident once
             * written, and no reallocation leaves holes in the heap as
             * the symbols' arrays grow side by side. */
            s->c = malloc(HH_REP_CANDLES_MAX * sizeof *s->c);
            if (!s->c)
                return HH_ENOMEM;
        }
        s->c[s->nc++] = *cur;
        if (s->nc == HH_REP_CANDLES_MAX)
            candles_halve(s);
    }
    *cur = (struct rep_candle){ t, o, h, l, c, volume };
    s->cur_n = 1;
    s->last_src = t;
    return HH_OK;
}

/* A fill of a symbol that gets no chart. */
static int other_fill(struct hh_rep *r, hh_iid_t iid, const char *symbol)
{
    for (size_t i = 0; i < r->nothers; i++) {
        if (r->others[i].iid == iid) {
            r->others[i].fills++;
            return HH_OK;
        }
    }
    if (r->nothers == HH_REP_OTHERS_MAX) {
        r->others_more++;
        return HH_OK;
    }
    r->others[r->nothers].iid = iid;
    r->others[r->nothers].name = strdup(symbol);
    if (!r->others[r->nothers].name)
        return HH_ENOMEM;
    r->others[r->nothers++].fills = 1;
    return HH_OK;
}

/* Make room for one more tracked symbol by dropping one that has no chart
 * (there is one: fewer than HH_REP_SYMBOLS_MAX are charted). */
static void evict_one(struct hh_rep *r)
{
    for (size_t i = r->nsyms; i-- > 0;) {
        if (r->syms[i]->chart < 0) {
            sym_drop(r, i);
            r->syms[i] = r->syms[--r->nsyms];
            if (i < r->nsyms)
                slot_set(r, i);
            return;
        }
    }
    HH_ASSERT(!"no uncharted symbol to evict");
}

int hh_rep_fill(struct hh_rep *r, const struct hh_tm_fill *f, const char *symbol)
{
    struct rep_sym *s = sym_find(r, f->iid);
    struct rep_marker mk;
    size_t i;

    if (!s && r->ncharted < HH_REP_SYMBOLS_MAX) {
        if (r->nsyms == HH_REP_TRACK_MAX)
            evict_one(r);
        s = sym_add(r, f->iid, symbol);
        if (!s)
            return HH_ENOMEM;
    }
    if (s && s->chart < 0 && r->ncharted < HH_REP_SYMBOLS_MAX) {
        s->chart = (int)r->ncharted++;
        if (r->ncharted == HH_REP_SYMBOLS_MAX)
            release_uncharted(r);
    }
    if (!s || s->chart < 0)
        return other_fill(r, f->iid, symbol);
    s->fills++;
    if (s->nm == HH_REP_MARKERS_MAX)
        return HH_OK;
    if (grow((void **)&s->m, &s->mcap, s->nm + 1, HH_REP_MARKERS_MAX, sizeof *s->m))
        return HH_ENOMEM;
    mk = (struct rep_marker){ chart_sec(f->ts), f->trade_id, (int8_t)f->side,
                              (uint8_t)f->reason, f->qty, f->price };
    for (i = s->nm; i > 0 && s->m[i - 1].t > mk.t; i--)
        s->m[i] = s->m[i - 1];
    s->m[i] = mk;
    s->nm++;
    return HH_OK;
}

int hh_rep_trade(struct hh_rep *r, const struct hh_tm_trade *t, const char *symbol)
{
    struct rep_trade *row;

    r->trades_total++;
    if (r->ntr == HH_REP_TRADES_MAX)
        return HH_OK;
    if (grow((void **)&r->tr, &r->trcap, r->ntr + 1, HH_REP_TRADES_MAX, sizeof *r->tr))
        return HH_ENOMEM;
    row = &r->tr[r->ntr];
    row->t = *t;
    row->t.sig = NULL;
    snprintf(row->sig_id, sizeof row->sig_id, "%s", t->sig ? t->sig->id : "");
    row->symbol = strdup(symbol ? symbol : "");
    if (!row->symbol)
        return HH_ENOMEM;
    r->ntr++;
    return HH_OK;
}

int hh_rep_equity(struct hh_rep *r, hh_time_t ts, hh_money_t equity)
{
    int64_t t = chart_sec(ts);
    struct rep_point *last = r->neq ? &r->eq[r->neq - 1] : NULL;

    r->eq_in++;
    if (last && t <= r->eq_last_src) {
        last->v = equity;               /* same second (or earlier): latest wins */
        return HH_OK;
    }
    r->eq_last_src = t;
    if (last && last->n < r->eqk) {
        last->t = t;
        last->v = equity;
        last->n++;
        return HH_OK;
    }
    if (r->neq == HH_REP_EQUITY_MAX) {
        size_t j = 0;

        for (size_t i = 0; i + 1 < r->neq; i += 2) {
            r->eq[j] = r->eq[i + 1];
            r->eq[j++].n += r->eq[i].n;
        }
        r->neq = j;
        r->eqk *= 2;
    }
    if (grow((void **)&r->eq, &r->eqcap, r->neq + 1, HH_REP_EQUITY_MAX, sizeof *r->eq))
        return HH_ENOMEM;
    r->eq[r->neq++] = (struct rep_point){ t, equity, 1 };
    return HH_OK;
}

/* ---- output helpers -------------------------------------------------- */

static void put_html(FILE *f, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '"': fputs("&quot;", f); break;
        case '\'': fputs("&#39;", f); break;
        default: fputc(*s, f);
        }
    }
}

/* IST time for the table: "2025-01-02 09:15:00" (".250" when it has ms). */
static void put_time(FILE *f, hh_time_t t)
{
    char b[48];
    size_t n = hh_time_format(t, b, sizeof b);

    if (n > 6 && strcmp(b + n - 6, "+05:30") == 0)
        b[n - 6] = '\0';
    if (b[10] == 'T')
        b[10] = ' ';
    fputs(b, f);
}

/* Copy the library text with "</script" -> "<\/script" and "<!--" -> "<\!--". */
static void put_lib(FILE *f, const char *s, size_t n)
{
    size_t from = 0;

    for (size_t i = 0; i < n; i++) {
        if (s[i] != '<')
            continue;
        if (i + 8 <= n && s[i + 1] == '/' && strncasecmp(s + i + 2, "script", 6) == 0) {
            fwrite(s + from, 1, i + 1 - from, f);
            fputc('\\', f);
            from = i + 1;
        } else if (i + 4 <= n && memcmp(s + i + 1, "!--", 3) == 0) {
            fwrite(s + from, 1, i + 1 - from, f);
            fputc('\\', f);
            from = i + 1;
        }
    }
    fwrite(s + from, 1, n - from, f);
}

/* ---- the chart library ----------------------------------------------- */

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t cap = 0, n = 0;

    if (!f)
        return NULL;
    for (;;) {
        size_t got;

        if (n == cap) {
            char *p;

            if (cap >= REP_LIB_MAX)
                goto out_fail;
            cap = cap ? cap * 2 : 256u << 10;
            p = realloc(buf, cap + 1);
            if (!p)
                goto out_fail;
            buf = p;
        }
        got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0)
            break;
    }
    if (ferror(f) || n == 0)
        goto out_fail;
    fclose(f);
    buf[n] = '\0';
    *len = n;
    return buf;

out_fail:
    free(buf);
    fclose(f);
    return NULL;
}

/*
 * Find and read the library: $HH_CHARTS_JS, else next to the executable.
 * Returns the text (caller frees) or NULL; `tried` gets the paths looked at.
 */
static char *load_lib(size_t *len, char *tried, size_t cap)
{
    const char *env = getenv(HH_REP_CHARTS_ENV);
    char exe[PATH_MAX], path[PATH_MAX + 64];
    static const char *const rel[] = { "/share/hedgehog/lightweight-charts.js",
                                       "/../share/hedgehog/lightweight-charts.js" };
    ssize_t n;
    char *slash;

    tried[0] = '\0';
    if (env && *env) {
        snprintf(tried, cap, "%s (from %s)", env, HH_REP_CHARTS_ENV);
        return read_file(env, len);
    }
    n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0) {
        snprintf(tried, cap, "(cannot resolve /proc/self/exe: set %s)", HH_REP_CHARTS_ENV);
        return NULL;
    }
    exe[n] = '\0';
    slash = strrchr(exe, '/');
    if (slash)
        *slash = '\0';
    for (size_t i = 0; i < sizeof rel / sizeof rel[0]; i++) {
        char *text;
        size_t used = strlen(tried);

        snprintf(path, sizeof path, "%s%s", exe, rel[i]);
        snprintf(tried + used, cap - used, "%s%s", used ? ", " : "", path);
        text = read_file(path, len);
        if (text)
            return text;
    }
    return NULL;
}

/* ---- the page -------------------------------------------------------- */

static const char CSS[] =
    ":root{--fg:#1f2933;--muted:#616e7c;--line:#e4e7eb;--bg:#f5f7fa;--card:#fff;"
    "--pos:#1b7f3b;--neg:#c62828;--accent:#1565c0}\n"
    "*{box-sizing:border-box}\n"
    "body{margin:0;background:var(--bg);color:var(--fg);"
    "font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,'Helvetica Neue',Arial,sans-serif}\n"
    "body[data-error]::before{content:'Report error: ' attr(data-error);display:block;"
    "padding:8px 24px;background:#fdecea;color:var(--neg);font-weight:600}\n"
    "header{padding:20px 24px 8px}\n"
    "h1{margin:0;font-size:22px;font-weight:650}\n"
    "h2{margin:0 0 12px;font-size:16px;font-weight:650}\n"
    "h3{margin:0;font-size:15px;font-weight:650}\n"
    ".sub{margin:4px 0 0;color:var(--muted);font-size:13px}\n"
    "main{padding:0 24px 32px;max-width:1600px}\n"
    "section{background:var(--card);border:1px solid var(--line);border-radius:8px;"
    "padding:16px;margin:16px 0}\n"
    ".cards{display:flex;flex-wrap:wrap;gap:12px;margin:16px 0}\n"
    ".card{flex:1 1 150px;background:var(--card);border:1px solid var(--line);"
    "border-radius:8px;padding:12px 16px}\n"
    ".card .k{color:var(--muted);font-size:12px;text-transform:uppercase;letter-spacing:.04em}\n"
    ".card .v{font-size:20px;font-weight:650;font-variant-numeric:tabular-nums}\n"
    ".pos{color:var(--pos)}.neg{color:var(--neg)}\n"
    ".note{margin:6px 0;padding:8px 12px;background:#fff8e1;border-left:3px solid #f9a825;"
    "border-radius:4px}\n"
    ".chart-box{margin:0 0 20px}\n"
    ".chart-head{display:flex;align-items:baseline;gap:12px;margin:0 0 6px;flex-wrap:wrap}\n"
    ".meta,.legend{color:var(--muted);font-size:12px;font-variant-numeric:tabular-nums}\n"
    ".legend{margin-left:auto}\n"
    ".chart{width:100%;min-height:40px;position:relative}\n"
    ".keys{display:flex;gap:14px;flex-wrap:wrap;color:var(--muted);font-size:12px;margin:0 0 12px}\n"
    ".keys i{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:4px;"
    "vertical-align:-1px}\n"
    ".scroll{overflow:auto;max-height:640px}\n"
    "table{border-collapse:collapse;width:100%;font-size:13px}\n"
    "th,td{padding:5px 10px;border-bottom:1px solid var(--line);text-align:left;white-space:nowrap}\n"
    "thead th{position:sticky;top:0;background:#f0f3f7;font-weight:600}\n"
    "td.id{max-width:240px;overflow:hidden;text-overflow:ellipsis}\n"
    "td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}\n"
    "tbody tr:hover{background:#f7f9fc}\n"
    "table.summary{width:auto;min-width:420px}\n"
    "table.summary th{font-weight:500;color:var(--muted)}\n";

/* Installed before the library so that its errors are caught too. */
static const char JS_ERRORS[] =
    "(function(){var b=document.body;function fail(m){if(!b.dataset.error)"
    "b.dataset.error=String(m).slice(0,300);}\n"
    "window.addEventListener('error',function(e){fail((e.message||'error')+"
    "(e.lineno?' (line '+e.lineno+')':''));});\n"
    "window.addEventListener('unhandledrejection',function(e){var r=e.reason;"
    "fail('unhandled rejection: '+(r&&r.message?r.message:String(r)));});})();\n";

static const char JS_APP[] =
    "(function(){'use strict';\n"
    "var body=document.body,charts=[],nm=0,nc=0,LC=window.LightweightCharts;\n"
    "function note(t){var p=document.createElement('p');p.className='note';p.textContent=t;"
    "document.getElementById('hh-notes').appendChild(p);}\n"
    "function done(){body.dataset.markers=String(nm);body.dataset.candles=String(nc);\n"
    " var raf=window.requestAnimationFrame||function(f){return setTimeout(f,16);};\n"
    " raf(function(){raf(function(){body.dataset.ready='1';});});}\n"
    "function el(tag,cls,text){var e=document.createElement(tag);if(cls)e.className=cls;"
    "if(text!==undefined)e.textContent=text;return e;}\n"
    "function f2(v){return typeof v==='number'?v.toFixed(2):'';}\n"
    "function hhmm(t){return new Date(t*1000).toISOString().slice(0,16).replace('T',' ');}\n"
    "var COL={EB:'#1565c0',ES:'#8e24aa',STOP:'#c62828',TGT:'#2e7d32',OTHER:'#ef6c00'};\n"
    "function marker(m,text){var buy=m[1]==='B',why=m[2],c;\n"
    " if(why==='ENTRY')c=buy?COL.EB:COL.ES;else if(why==='STOP')c=COL.STOP;\n"
    " else if(why.indexOf('TARGET')===0)c=COL.TGT;else c=COL.OTHER;\n"
    " var k={time:m[0],position:buy?'belowBar':'aboveBar',shape:buy?'arrowUp':'arrowDown',"
    "color:c,id:String(m[3])};\n"
    " if(text)k.text=why==='ENTRY'?(buy?'BUY':'SELL'):why;return k;}\n"
    "var BASE={layout:{background:{type:'solid',color:'#ffffff'},textColor:'#3e4c59',fontSize:12,\n"
    " fontFamily:\"system-ui,-apple-system,'Segoe UI',Roboto,Arial,sans-serif\"},\n"
    " grid:{vertLines:{color:'#f0f3f7'},horzLines:{color:'#f0f3f7'}},\n"
    " rightPriceScale:{borderColor:'#d9dee4'},\n"
    " timeScale:{borderColor:'#d9dee4',timeVisible:true,secondsVisible:false,minBarSpacing:0.02}};\n"
    "function mkchart(box,h){var c=LC.createChart(box,Object.assign({width:box.clientWidth||900,"
    "height:h},BASE));charts.push([c,box]);return c;}\n"
    "function drawSymbol(host,s){\n"
    " var box=el('div','chart-box'),head=el('div','chart-head'),lg=el('span','legend'),cv=el('div','chart');\n"
    " head.appendChild(el('h3','',s.symbol));\n"
    " head.appendChild(el('span','meta',s.candles.length+' candles'+(s.k>1?' (each = '+s.k+' bars)':'')+\n"
    "  ', '+s.fills+' fills'));\n"
    " head.appendChild(lg);box.appendChild(head);box.appendChild(cv);host.appendChild(box);\n"
    " var ch=mkchart(cv,420);\n"
    " var cs=ch.addSeries(LC.CandlestickSeries,{upColor:'#26a69a',downColor:'#ef5350',"
    "borderVisible:false,wickUpColor:'#26a69a',wickDownColor:'#ef5350'});\n"
    " var n=s.candles.length,cd=new Array(n),vd=new Array(n),anyv=false;\n"
    " for(var i=0;i<n;i++){var c=s.candles[i];cd[i]={time:c[0],open:c[1],high:c[2],low:c[3],close:c[4]};\n"
    "  if(c[5]>0)anyv=true;\n"
    "  vd[i]={time:c[0],value:c[5],color:c[4]>=c[1]?'rgba(38,166,154,0.35)':'rgba(239,83,80,0.35)'};}\n"
    " cs.setData(cd);\n"
    " if(anyv){var vs=ch.addSeries(LC.HistogramSeries,{priceFormat:{type:'volume'},priceScaleId:'vol',"
    "lastValueVisible:false,priceLineVisible:false});\n"
    "  ch.priceScale('vol').applyOptions({scaleMargins:{top:0.82,bottom:0}});\n"
    "  cs.priceScale().applyOptions({scaleMargins:{top:0.08,bottom:0.22}});\n"
    "  vs.setData(vd);}\n"
    " var text=s.markers.length<=" REP_STR(REP_TEXT_MARKERS) ";\n"
    " var mk=s.markers.map(function(m){return marker(m,text);});\n"
    " mk.sort(function(a,b){return a.time-b.time;});\n"
    " LC.createSeriesMarkers(cs,mk);nm+=mk.length;nc+=n;\n"
    " ch.timeScale().fitContent();\n"
    " var idle=n?'last: O '+f2(cd[n-1].open)+' H '+f2(cd[n-1].high)+' L '+f2(cd[n-1].low)+' C '+f2(cd[n-1].close):'';\n"
    " lg.textContent=idle;\n"
    " ch.subscribeCrosshairMove(function(p){var d=p&&p.seriesData?p.seriesData.get(cs):null;\n"
    "  lg.textContent=d?hhmm(p.time)+'  O '+f2(d.open)+' H '+f2(d.high)+' L '+f2(d.low)+' C '+f2(d.close):idle;});}\n"
    "function drawEquity(eq){var box=document.getElementById('hh-equity');\n"
    " if(!eq.length){note('No equity points were recorded.');return;}\n"
    " var ch=mkchart(box,300);\n"
    " var ls=ch.addSeries(LC.LineSeries,{color:'#1565c0',lineWidth:2,"
    "priceFormat:{type:'price',precision:2,minMove:0.01}});\n"
    " ls.setData(eq.map(function(p){return{time:p[0],value:p[1]};}));\n"
    " ls.createPriceLine({price:eq[0][1],color:'#9aa5b1',lineWidth:1,lineStyle:2,"
    "axisLabelVisible:false,title:'start'});\n"
    " ch.timeScale().fitContent();}\n"
    "try{var D=JSON.parse(document.getElementById('hh-data').textContent);\n"
    " if(LC){var host=document.getElementById('hh-charts');\n"
    "  D.symbols.forEach(function(s){drawSymbol(host,s);});\n"
    "  drawEquity(D.equity);\n"
    "  window.addEventListener('resize',function(){charts.forEach(function(c){"
    "c[0].applyOptions({width:c[1].clientWidth});});});}\n"
    "}catch(e){body.dataset.error='report: '+(e&&e.message?e.message:String(e));}\n"
    "done();})();\n";

/* Text of a summary value: strings as they are, numbers as their exact
 * JSON text (json-c keeps the token's text), objects as "k: v, ...". */
static void put_summary_value(FILE *f, struct json_object *v)
{
    switch (json_object_get_type(v)) {
    case json_type_string:
        put_html(f, json_object_get_string(v));
        break;
    case json_type_object: {
        bool any = false;

        json_object_object_foreach(v, k, sub) {
            if (any)
                fputs(", ", f);
            put_html(f, k);
            fputs(": ", f);
            put_summary_value(f, sub);
            any = true;
        }
        if (!any)
            fputs("none", f);
        break;
    }
    case json_type_null:
        fputs("–", f);
        break;
    default:
        put_html(f, json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN));
    }
}

/* "max_drawdown" -> "Max drawdown"; a few known keys read better spelled out. */
static void put_label(FILE *f, const char *key)
{
    static const struct { const char *key, *label; } known[] = {
        { "gross_pnl", "Gross P&L" }, { "net_pnl", "Net P&L" },
        { "elapsed_s", "Elapsed (s)" }, { "rejected_by_reason", "Rejected by reason" },
    };
    char b[128];
    size_t i;

    for (i = 0; i < sizeof known / sizeof known[0]; i++) {
        if (strcmp(key, known[i].key) == 0) {
            put_html(f, known[i].label);
            return;
        }
    }
    for (i = 0; key[i] && i + 1 < sizeof b; i++)
        b[i] = key[i] == '_' ? ' ' : key[i];
    b[i] = '\0';
    if (b[0] >= 'a' && b[0] <= 'z')
        b[0] = (char)(b[0] - 'a' + 'A');
    put_html(f, b);
}

static void put_cards(FILE *f, struct json_object *sum)
{
    static const struct { const char *key, *label; bool sign; } cards[] = {
        { "net_pnl", "Net P&L", true },       { "trades", "Trades", false },
        { "win_rate", "Win rate", false },    { "max_drawdown", "Max drawdown", false },
        { "final_equity", "Final equity", false }, { "charges", "Charges", false },
    };
    bool open = false;

    for (size_t i = 0; sum && i < sizeof cards / sizeof cards[0]; i++) {
        struct json_object *v;
        const char *txt;

        if (!json_object_object_get_ex(sum, cards[i].key, &v) ||
            json_object_get_type(v) == json_type_object)
            continue;
        if (!open)
            fputs("<div class=\"cards\">\n", f);
        open = true;
        txt = json_object_get_type(v) == json_type_string
                  ? json_object_get_string(v)
                  : json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN);
        fputs("<div class=\"card\"><div class=\"k\">", f);
        put_html(f, cards[i].label);
        fputs("</div><div class=\"v", f);
        if (cards[i].sign)
            fputs(txt[0] == '-' ? " neg" : strspn(txt, "0.") == strlen(txt) ? "" : " pos", f);
        fputs("\">", f);
        put_html(f, txt);
        fputs("</div></div>\n", f);
    }
    if (open)
        fputs("</div>\n", f);
}

static void put_summary(FILE *f, struct json_object *sum)
{
    fputs("<section id=\"hh-summary\"><h2>Summary</h2>\n", f);
    if (!sum) {
        fputs("<p class=\"note\">The summary is not available (summary.json could not be "
              "read).</p></section>\n", f);
        return;
    }
    fputs("<table class=\"summary\"><tbody>\n", f);
    json_object_object_foreach(sum, k, v) {
        fputs("<tr><th>", f);
        put_label(f, k);
        fputs("</th><td class=\"n\">", f);
        put_summary_value(f, v);
        fputs("</td></tr>\n", f);
    }
    fputs("</tbody></table></section>\n", f);
}

static void put_trades(FILE *f, const struct hh_rep *r)
{
    static const char *const cols[] = { "#", "Signal", "Symbol", "Side", "Qty", "Entry time",
                                        "Entry", "Exit time", "Avg exit", "Exit reason",
                                        "Gross P&L", "Charges", "Net P&L", "R" };
    static const bool num[] = { 1, 0, 0, 0, 1, 0, 1, 0, 1, 0, 1, 1, 1, 1 };

    fprintf(f, "<section id=\"hh-trades\"><h2>Trades (%llu)</h2>\n",
            (unsigned long long)r->trades_total);
    if (r->trades_total > r->ntr)
        fprintf(f, "<p class=\"note\">The table shows the first %zu of %llu trades; "
                "trades.csv has them all.</p>\n", r->ntr, (unsigned long long)r->trades_total);
    if (!r->ntr) {
        fputs("<p class=\"sub\">No closed trades.</p></section>\n", f);
        return;
    }
    fputs("<div class=\"scroll\"><table id=\"hh-trade-table\"><thead><tr>", f);
    for (size_t i = 0; i < sizeof cols / sizeof cols[0]; i++) {
        fputs(num[i] ? "<th class=\"n\">" : "<th>", f);
        put_html(f, cols[i]);
        fputs("</th>", f);
    }
    fputs("</tr></thead>\n<tbody>\n", f);
    for (size_t i = 0; i < r->ntr; i++) {
        const struct rep_trade *row = &r->tr[i];
        const struct hh_tm_trade *t = &row->t;
        char rm[32];

        fprintf(f, "<tr><td class=\"n\">%u</td><td class=\"id\" title=\"", t->trade_id);
        put_html(f, row->sig_id);
        fputs("\">", f);
        put_html(f, row->sig_id);
        fputs("</td><td class=\"id\" title=\"", f);
        put_html(f, row->symbol);
        fputs("\">", f);
        put_html(f, row->symbol);
        fprintf(f, "</td><td>%s</td><td class=\"n\">%lld</td><td>", hh_side_name((enum hh_side)t->side),
                (long long)t->qty);
        put_time(f, t->entry_ts);
        fputs("</td><td class=\"n\">", f);
        hh_fx_put(f, t->entry_price, 2);
        fputs("</td><td>", f);
        put_time(f, t->exit_ts);
        fputs("</td><td class=\"n\">", f);
        hh_fx_put(f, t->avg_exit_price, 2);
        fprintf(f, "</td><td>%s</td><td class=\"n\">", hh_fill_reason_name(t->exit_reason));
        hh_fx_put(f, t->gross, 2);
        fputs("</td><td class=\"n\">", f);
        hh_fx_put(f, t->charges, 2);
        fprintf(f, "</td><td class=\"n %s\">", t->net < 0 ? "neg" : t->net > 0 ? "pos" : "");
        hh_fx_put(f, t->net, 2);
        hh_dec_format(rm, sizeof rm, t->r_multiple, 2, 2);
        fprintf(f, "</td><td class=\"n\">%s</td></tr>\n", rm);
    }
    fputs("</tbody></table></div></section>\n", f);
}

/* The stored candle a fill at chart second t belongs to: the last one
 * starting at or before t (the first one for a fill before all candles). */
static size_t candle_of(const struct rep_sym *s, int64_t t)
{
    size_t lo = 0, hi = stored(s);   /* answer in [lo, hi) */

    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;

        if (stored_at(s, mid)->t <= t)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

/* The charted symbols with candles, in chart order. */
static size_t charted(const struct hh_rep *r, const struct rep_sym **out)
{
    size_t n = 0;

    for (int c = 0; c < (int)r->ncharted; c++)
        for (size_t i = 0; i < r->nsyms; i++)
            if (r->syms[i]->chart == c && stored(r->syms[i]))
                out[n++] = r->syms[i];
    return n;
}

/* A number of a data row and its comma: a price (two places) or an
 * integer, as hh_json_fx / hh_json_int write them. */
static char *row_num(char *p, int64_t v, bool price)
{
    p += price ? hh_fx_format(p, 24, v, 2) : hh_dec_format(p, 24, v, 0, 0);
    *p = ',';
    return p + 1;
}

/* Row j of candles or equity points, row[0..n) (its last comma is the
 * closing bracket): a new line every 8 rows.  Rows are formatted whole
 * and written as one value: there are up to 10^5 of them. */
static void data_row(struct hh_json *w, size_t j, char *row, size_t n)
{
    if (j && j % 8 == 0)
        hh_json_break(w);
    row[n - 1] = ']';
    hh_json_raw(w, NULL, row, n);
}

static void put_symbol_data(struct hh_json *w, const struct rep_sym *s)
{
    hh_json_break(w);
    hh_json_begin_object(w, NULL, false);
    hh_json_str(w, "symbol", s->name);
    hh_json_uint(w, "k", s->k);
    hh_json_uint(w, "candles_in", s->candles_in);
    hh_json_uint(w, "fills", s->fills);
    hh_json_break(w);
    hh_json_begin_array(w, "candles", false);
    for (size_t j = 0; j < stored(s); j++) {
        const struct rep_candle *c = stored_at(s, j);
        char row[6 * 24 + 1], *p = row;

        *p++ = '[';
        p = row_num(p, c->t, false);
        p = row_num(p, c->o, true);
        p = row_num(p, c->h, true);
        p = row_num(p, c->l, true);
        p = row_num(p, c->c, true);
        p = row_num(p, c->v, false);
        data_row(w, j, row, (size_t)(p - row));
    }
    hh_json_end_array(w);
    hh_json_break(w);
    hh_json_begin_array(w, "markers", false);
    for (size_t j = 0; j < s->nm; j++) {
        const struct rep_marker *m = &s->m[j];

        if (j)
            hh_json_break(w);
        hh_json_begin_array(w, NULL, false);
        hh_json_int(w, NULL, stored_at(s, candle_of(s, m->t))->t);
        hh_json_str(w, NULL, m->side == HH_BUY ? "B" : "S");
        hh_json_str(w, NULL, hh_fill_reason_name((enum hh_fill_reason)m->reason));
        hh_json_uint(w, NULL, m->trade_id);
        hh_json_int(w, NULL, m->qty);
        hh_json_fx(w, NULL, m->price, 2);
        hh_json_end_array(w);
    }
    hh_json_end_array(w);
    hh_json_end_object(w);
}

/* The chart data, HTML-safe JSON, written a symbol at a time: HH_OK or
 * HH_ENOMEM (write errors are the FILE's). */
static int put_data(FILE *f, const struct hh_rep *r)
{
    const struct rep_sym *cs[HH_REP_SYMBOLS_MAX];
    size_t n = charted(r, cs);
    struct hh_json w;
    int rc;

    hh_json_init(&w, HH_JSON_HTML, NULL, 0);
    hh_json_begin_object(&w, NULL, false);
    hh_json_begin_array(&w, "symbols", false);
    for (size_t i = 0; i < n; i++) {
        put_symbol_data(&w, cs[i]);
        hh_json_flush(&w, f);
    }
    hh_json_end_array(&w);
    hh_json_break(&w);
    hh_json_begin_array(&w, "equity", false);
    for (size_t j = 0; j < r->neq; j++) {
        char row[2 * 24 + 1], *p = row;

        *p++ = '[';
        p = row_num(p, r->eq[j].t, false);
        p = row_num(p, r->eq[j].v, true);
        data_row(&w, j, row, (size_t)(p - row));
    }
    hh_json_end_array(&w);
    hh_json_end_object(&w);
    hh_json_flush(&w, f);
    rc = hh_json_status(&w);
    hh_json_free(&w);
    return rc;
}

static void put_notes(FILE *f, const struct hh_rep *r, bool have_lib, const char *tried)
{
    const struct rep_sym *cs[HH_REP_SYMBOLS_MAX];
    size_t n = charted(r, cs);

    fputs("<div id=\"hh-notes\">\n", f);
    if (!have_lib) {
        fputs("<p class=\"note\" id=\"hh-nolib\">Charts are not shown: the chart library "
              "(lightweight-charts.js) was not found when this report was written (looked "
              "for ", f);
        put_html(f, tried);
        fputs("). The tables below are complete.</p>\n", f);
    }
    for (size_t i = 0; i < r->nsyms; i++) {
        const struct rep_sym *s = r->syms[i];

        if (s->chart < 0)
            continue;
        if (!stored(s)) {
            fputs("<p class=\"note\">", f);
            put_html(f, s->name);
            fprintf(f, ": no candles were recorded, so its %llu fills are not charted.</p>\n",
                    (unsigned long long)s->fills);
            continue;
        }
        if (s->k > 1) {
            fputs("<p class=\"note\">", f);
            put_html(f, s->name);
            fprintf(f, ": %llu candles were merged into %zu (every %llu consecutive candles "
                    "make one) to keep the page small.</p>\n",
                    (unsigned long long)s->candles_in, stored(s), (unsigned long long)s->k);
        }
        if (s->fills > s->nm) {
            fputs("<p class=\"note\">", f);
            put_html(f, s->name);
            fprintf(f, ": markers are shown for the first %zu of %llu fills.</p>\n", s->nm,
                    (unsigned long long)s->fills);
        }
        if (s->candles_late) {
            fputs("<p class=\"note\">", f);
            put_html(f, s->name);
            fprintf(f, ": %llu candles out of time order were left out.</p>\n",
                    (unsigned long long)s->candles_late);
        }
        if (s->nm > REP_TEXT_MARKERS) {
            fputs("<p class=\"note\">", f);
            put_html(f, s->name);
            fprintf(f, ": %zu markers, shown without labels.</p>\n", s->nm);
        }
    }
    if (r->nothers) {
        fprintf(f, "<p class=\"note\" id=\"hh-uncharted\">At most %d symbols are charted; "
                "these also have fills: ", HH_REP_SYMBOLS_MAX);
        for (size_t i = 0; i < r->nothers; i++) {
            if (i)
                fputs(", ", f);
            put_html(f, r->others[i].name);
            fprintf(f, " (%llu)", (unsigned long long)r->others[i].fills);
        }
        if (r->others_more)
            fprintf(f, " and further symbols with %llu fills",
                    (unsigned long long)r->others_more);
        fputs(".</p>\n", f);
    }
    if (r->eqk > 1)
        fprintf(f, "<p class=\"note\">The equity curve shows every %llu-th of %llu points.</p>\n",
                (unsigned long long)r->eqk, (unsigned long long)r->eq_in);
    if (!n && have_lib)
        fputs("<p class=\"note\">No symbol has both fills and candles: no price chart.</p>\n", f);
    fputs("</div>\n", f);
}

/* The whole page: HH_OK or HH_ENOMEM (write errors are the FILE's). */
static int put_page(FILE *f, const struct hh_rep *r, struct json_object *sum,
                    const char *lib, size_t liblen, const char *tried)
{
    int rc;

    fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
          "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
          "script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:\">\n"
          "<title>hedgehog backtest report</title>\n<style>\n", f);
    fputs(CSS, f);
    fputs("</style>\n</head>\n<body>\n<script>\n", f);
    fputs(JS_ERRORS, f);
    fputs("</script>\n<header><h1>hedgehog backtest report</h1>\n"
          "<p class=\"sub\">Times are IST (UTC+05:30); prices and money in rupees.</p>"
          "</header>\n<main>\n", f);
    put_cards(f, sum);
    put_notes(f, r, lib != NULL, tried);
    fputs("<section id=\"hh-price\"><h2>Price</h2>\n<div class=\"keys\">"
          "<span><i style=\"background:#1565c0\"></i>entry (buy)</span>"
          "<span><i style=\"background:#8e24aa\"></i>entry (sell)</span>"
          "<span><i style=\"background:#2e7d32\"></i>target</span>"
          "<span><i style=\"background:#c62828\"></i>stop</span>"
          "<span><i style=\"background:#ef6c00\"></i>square-off, kill, expiry</span>"
          "<span>&#9650; below the bar: buy &middot; &#9660; above the bar: sell</span></div>\n"
          "<div id=\"hh-charts\"></div></section>\n"
          "<section><h2>Equity (realised)</h2><div id=\"hh-equity\" class=\"chart\"></div>"
          "</section>\n", f);
    put_trades(f, r);
    put_summary(f, sum);
    fputs("</main>\n", f);
    if (lib) {
        fputs("<script>\n", f);
        put_lib(f, lib, liblen);
        fputs("\n</script>\n", f);
    }
    fputs("<script type=\"application/json\" id=\"hh-data\">\n", f);
    rc = put_data(f, r);
    fputs("\n</script>\n<script>\n", f);
    fputs(JS_APP, f);
    fputs("</script>\n</body>\n</html>\n", f);
    return rc;
}

int hh_rep_write(struct hh_rep *r, const char *path, const char *summary_json,
                 struct hh_diag *d)
{
    char tried[2 * PATH_MAX + 256], *tmp;
    struct json_object *sum = NULL;
    size_t liblen = 0;
    char *lib;
    FILE *f;
    int rc = HH_OK;

    lib = load_lib(&liblen, tried, sizeof tried);
    if (!lib)
        fprintf(stderr, "hedgehog: warning: chart library not found (looked for %s); "
                "%s has no charts\n", tried, path);
    if (summary_json) {
        sum = json_tokener_parse(summary_json);
        if (sum && !json_object_is_type(sum, json_type_object)) {
            json_object_put(sum);
            sum = NULL;
        }
    }
    if (asprintf(&tmp, "%s.tmp", path) < 0) {
        rc = hh_diag_set(d, HH_ENOMEM, "out of memory");
        goto out_lib;
    }
    f = fopen(tmp, "w");
    if (!f) {
        rc = hh_diag_set(d, HH_EIO, "%s: cannot create: %s", tmp, strerror(errno));
        goto out_tmp;
    }
    if (put_page(f, r, sum, lib, liblen, tried)) {
        fclose(f);
        rc = hh_diag_set(d, HH_ENOMEM, "%s: out of memory", tmp);
        goto out_unlink;
    }
    if (ferror(f)) {
        fclose(f);
        rc = hh_diag_set(d, HH_EIO, "%s: write error", tmp);
        goto out_unlink;
    }
    if (fclose(f) != 0) {
        rc = hh_diag_set(d, HH_EIO, "%s: write error: %s", tmp, strerror(errno));
        goto out_unlink;
    }
    if (rename(tmp, path) != 0) {
        rc = hh_diag_set(d, HH_EIO, "%s: cannot rename to %s: %s", tmp, path, strerror(errno));
        goto out_unlink;
    }
    goto out_tmp;

out_unlink:
    unlink(tmp);
out_tmp:
    free(tmp);
out_lib:
    json_object_put(sum);
    free(lib);
    return rc;
}
