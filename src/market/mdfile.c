/*
 * mdfile.c — streaming readers for tick and bar CSV files (SPEC §3):
 * opening, the header, and the generic road.
 *
 * Rows of the canonical layout first try the fast road (mdfast.c), which
 * reads them straight from the line reader's buffer and accepts only what
 * this file would accept, with the same values.  Everything else — and
 * every row the fast road declines — takes the generic road here: the
 * line is handed out by hh_lines, one pass over it (16 bytes at a time
 * with SSE2) finds the commas, from which the fields the header named are
 * cut lazily; the timestamp, prices and quantities go through fast paths
 * for their common shapes (fixed-width ISO time with the last date and
 * offset cached, plain decimals) that fall back to the exact generic
 * parsers for anything else, so results never depend on which path ran;
 * the symbol is resolved through a small two-way cache in front of the
 * instrument table.  Nothing is allocated per row.
 *
 * Invariants:
 *  - a row is accepted only when every field parsed, the bar (if any) is
 *    consistent and its time is not before the last accepted row's;
 *  - every data row is counted exactly once in stats.rows and then exactly
 *    once in accepted or in one skipped_* reason;
 *  - a symbol is interned only for an accepted row.
 */
#include "market/mdfile_int.h"

#include <stdarg.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MD_MAX_COLS   64    /* columns a header may have */
#define MD_WARN_ROWS  10    /* skipped rows reported one by one */

/* Earliest and latest years whose instants fit int64 nanoseconds with any
 * UTC offset (the limits are 1677-09-21 and 2262-04-11). */
#define MD_YEAR_MIN 1678
#define MD_YEAR_MAX 2261

/* Named columns; ticks use TS..ASK, bars TS, SYMBOL, OPEN..VOLUME. */
enum {
    COL_TS, COL_SYMBOL,
    COL_PRICE, COL_QTY, COL_BID, COL_ASK,                  /* ticks */
    COL_OPEN = 2, COL_HIGH, COL_LOW, COL_CLOSE, COL_VOLUME, /* bars */
    COL_MAX = HH_MD__COLS
};

/* A kind's columns, in their canonical order. */
struct hh_md__layout {
    const char *names[COL_MAX];
    int n;           /* names in use */
    int required;    /* the first `required` names must be present */
};

static const struct hh_md__layout layouts[] = {
    [HH_MD_TICKS] = { { "ts", "symbol", "price", "qty", "bid", "ask" }, 6, 4 },
    [HH_MD_BARS]  = { { "ts", "symbol", "open", "high", "low", "close", "volume" }, 7, 7 },
};

enum skip_reason { SKIP_ORDER, SKIP_FIELD, SKIP_OHLC };

/* ---- field parsers ------------------------------------------------------ */

static inline bool is_digit(char c)
{
    return (unsigned char)(c - '0') < 10;
}

static const char *dec_why(int rc)
{
    switch (rc) {
    case HH_ERANGE: return "out of range";
    case HH_EPREC:  return "more than 4 decimal places";
    default:        return "not a number";
    }
}

/* Fast path for unsigned "ddd[.dddd]" with at most 14 integer digits;
 * false when the shape is anything else (the generic parser decides). */
HOT bool price_fast(const char *s, size_t n, hh_price_t *out)
{
    static const int64_t scale[5] = { 10000, 1000, 100, 10, 1 };
    uint64_t v = 0;
    size_t i = 0, f;
    unsigned d;

    if (n == 0 || n > 19)
        return false;
    while ((d = (unsigned char)s[i] - '0') <= 9) {
        v = v * 10 + d;
        if (++i == n)
            break;
    }
    if (i == 0 || i > 14)
        return false;
    if (i == n) {
        *out = (int64_t)v * HH_FX_SCALE;
        return true;
    }
    if (s[i] != '.' || n - i - 1 - 1 >= 4)      /* 1..4 places */
        return false;
    for (f = ++i; i < n; i++) {
        if ((d = (unsigned char)s[i] - '0') > 9)
            return false;
        v = v * 10 + d;
    }
    *out = (int64_t)v * scale[n - f];
    return true;
}

int hh_md_parse_price(const char *s, size_t n, hh_price_t *out, const char **why)
{
    int rc;

    if (price_fast(s, n, out))
        return HH_OK;
    rc = hh_dec_parse(s, n, HH_FX_DIGITS, HH_DEC_PLUS, out);
    if (rc && why)
        *why = dec_why(rc);
    return rc;
}

/* Fast path for 1..18 plain digits. */
HOT bool qty_fast(const char *s, size_t n, hh_qty_t *out)
{
    uint64_t v = 0;

    if (n - 1 >= 18)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned d = (unsigned char)s[i] - '0';

        if (d > 9)
            return false;
        v = v * 10 + d;
    }
    *out = (int64_t)v;
    return true;
}

int hh_md_parse_qty(const char *s, size_t n, hh_qty_t *out, const char **why)
{
    int rc;

    if (qty_fast(s, n, out))
        return HH_OK;
    rc = hh_dec_parse(s, n, 0, HH_DEC_PLUS, out);
    if (rc && why)
        *why = rc == HH_EPREC ? "not a whole number" : dec_why(rc);
    return rc;
}

/* Two digits at s as a number, or -1. */
static inline int two(const char *s)
{
    if (!is_digit(s[0]) || !is_digit(s[1]))
        return -1;
    return (s[0] - '0') * 10 + (s[1] - '0');
}

/* Midnight UTC (ns) of the "YYYY-MM-DD" at s, through the cache; false when
 * the text is not a valid date in range. */
HOT bool date_cached(struct hh_md_datecache *c, const char *s, hh_time_t *out)
{
    int y1, y2, m, d, y;
    uint64_t a, b;
    uint16_t x, z;

    memcpy(&a, c->ymd, 8), memcpy(&b, s, 8);
    memcpy(&x, c->ymd + 8, 2), memcpy(&z, s + 8, 2);
    if (a == b && x == z && (c->valid & 1)) {
        *out = c->midnight;
        return true;
    }
    if (s[4] != '-' || s[7] != '-')
        return false;
    y1 = two(s), y2 = two(s + 2), m = two(s + 5), d = two(s + 8);
    if (y1 < 0 || y2 < 0 || m < 0 || d < 0)
        return false;
    y = y1 * 100 + y2;
    if (y < MD_YEAR_MIN || y > MD_YEAR_MAX || !hh_date_valid_ymd(y, m, d))
        return false;
    memcpy(c->ymd, s, 10);
    c->midnight = hh_time_from_utc(hh_date_from_ymd(y, m, d), 0);
    c->valid |= 1;
    *out = c->midnight;
    return true;
}

/* The "+HH:MM" / "-HH:MM" at s in ns east of UTC, through the cache. */
HOT bool offset_cached(struct hh_md_datecache *c, const char *s, int64_t *out)
{
    uint32_t a, b;
    uint16_t x, z;
    int oh, om;

    memcpy(&a, c->off, 4), memcpy(&b, s, 4);
    memcpy(&x, c->off + 4, 2), memcpy(&z, s + 4, 2);
    if (a == b && x == z && (c->valid & 2)) {
        *out = c->offset;
        return true;
    }
    if ((s[0] != '+' && s[0] != '-') || s[3] != ':')
        return false;
    oh = two(s + 1), om = two(s + 4);
    if (oh < 0 || oh > 23 || om < 0 || om > 59)
        return false;
    memcpy(c->off, s, 6);
    c->offset = (oh * HH_NS_PER_HOUR + om * HH_NS_PER_MIN) * (s[0] == '-' ? -1 : 1);
    c->valid |= 2;
    *out = c->offset;
    return true;
}

/*
 * "HH:MM:SS" at s as ns since midnight, or -1.  Eight bytes at once: the
 * two colons checked, the six digits validated and taken apart in one
 * word (the trick of simdjson's is_made_of_eight_digits_fast).
 */
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
HOT int64_t hms(const char *s)
{
    const uint64_t colons = 0x00003A00003A0000ull;       /* bytes 2 and 5 */
    const uint64_t dmask = 0xFFFF00FFFF00FFFFull;
    uint64_t w, v, hi, lo, d;
    int h, mi, sec;

    memcpy(&w, s, 8);
    if ((w & ~dmask) != colons)
        return -1;
    v = (w & dmask) | (0x3030303030303030ull & ~dmask);    /* colons -> '0' */
    hi = v & 0xF0F0F0F0F0F0F0F0ull;                         /* 0x30 for a digit */
    lo = (v + 0x0606060606060606ull) & 0xF0F0F0F0F0F0F0F0ull; /* 0x30 if <= '9' */
    if ((hi | lo >> 4) != 0x3333333333333333ull)
        return -1;
    d = v - 0x3030303030303030ull;
    h = (int)(d & 0xF) * 10 + (int)(d >> 8 & 0xF);
    mi = (int)(d >> 24 & 0xF) * 10 + (int)(d >> 32 & 0xF);
    sec = (int)(d >> 48 & 0xF) * 10 + (int)(d >> 56 & 0xF);
    if (h > 23 || mi > 59 || sec > 59)
        return -1;
    return h * HH_NS_PER_HOUR + mi * HH_NS_PER_MIN + sec * HH_NS_PER_S;
}
#else
HOT int64_t hms(const char *s)
{
    int h = two(s), mi = two(s + 3), sec = two(s + 6);

    if (s[2] != ':' || s[5] != ':' || h < 0 || h > 23 || mi < 0 || mi > 59 || sec < 0 ||
        sec > 59)
        return -1;
    return h * HH_NS_PER_HOUR + mi * HH_NS_PER_MIN + sec * HH_NS_PER_S;
}
#endif

/* The fraction of a second after the '.' at s[0..n): digits, up to 9 (as
 * ns), ending at a non-digit; *len gets the digit count (0: none). */
HOT int64_t fraction(const char *s, size_t n, size_t *len)
{
    static const int64_t scale[10] = {
        0, 100000000, 10000000, 1000000, 100000, 10000, 1000, 100, 10, 1,
    };
    int64_t v = 0;
    size_t i = 0;
    unsigned d;

    /* Milliseconds, the common case: three digits and no fourth. */
    if (n >= 4 && is_digit(s[0]) && is_digit(s[1]) && is_digit(s[2]) && !is_digit(s[3])) {
        *len = 3;
        return ((s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0')) * HH_NS_PER_MS;
    }
    while (i < n && i < 9 && (d = (unsigned char)s[i] - '0') <= 9) {
        v = v * 10 + d;
        i++;
    }
    *len = i;
    return v * scale[i];
}

/* Fast path: YYYY-MM-DD(T|t| )HH:MM:SS[.f{1,9}](Z|z|+HH:MM|-HH:MM). */
HOT bool time_fast(struct hh_md_datecache *c, const char *s, size_t n,
                             hh_time_t *out)
{
    int64_t tod, frac = 0, off;
    hh_time_t day;
    size_t i = 19;

    if (n < 20 || !date_cached(c, s, &day))
        return false;
    if (s[10] != 'T' && s[10] != ' ' && s[10] != 't')
        return false;
    if ((tod = hms(s + 11)) < 0)
        return false;
    if (s[i] == '.') {
        size_t nd;

        frac = fraction(s + i + 1, n - i - 1, &nd);
        if (nd == 0)
            return false;
        i += 1 + nd;
    }
    if (n - i == 6) {
        if (!offset_cached(c, s + i, &off))
            return false;
    } else if (n - i == 1 && (s[i] == 'Z' || s[i] == 'z')) {
        off = 0;
    } else {
        return false;
    }
    *out = day + tod + frac - off;
    return true;
}

int hh_md_parse_time(struct hh_md_datecache *c, const char *s, size_t n,
                     hh_time_t *out, const char **why)
{
    if (time_fast(c, s, n, out))
        return HH_OK;
    /* hh_time_parse reads the year from the first four bytes; keep it where
     * the nanosecond count cannot overflow. */
    if (n >= 4 && is_digit(s[0]) && is_digit(s[1]) && is_digit(s[2]) && is_digit(s[3])) {
        int y = two(s) * 100 + two(s + 2);

        if (y < MD_YEAR_MIN || y > MD_YEAR_MAX) {
            if (why)
                *why = "year out of range (1678-2261)";
            return HH_ERANGE;
        }
    }
    return hh_time_parse(s, n, out, why);
}

/* ---- opening and the header --------------------------------------------- */

/* Print a warning line (no-op without a warning stream). */
static void warnf(struct hh_md_reader *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void warnf(struct hh_md_reader *r, const char *fmt, ...)
{
    va_list ap;

    if (!r->warn)
        return;
    va_start(ap, fmt);
    vfprintf(r->warn, fmt, ap);
    va_end(ap);
}

/* Which named column a header field is, or -1. */
static int column_role(const struct hh_md__layout *lay, struct hh_field f)
{
    f = hh_field_trim(f);
    for (int k = 0; k < lay->n; k++)
        if (f.n == strlen(lay->names[k]) && strncasecmp(f.p, lay->names[k], f.n) == 0)
            return k;
    return -1;
}

/* Every required column found?  Else HH_EHEADER naming all missing ones. */
static int check_required(struct hh_md_reader *r, const int *col, struct hh_diag *d)
{
    char miss[256];
    size_t n = 0;

    miss[0] = '\0';
    for (int k = 0; k < r->lay->required; k++) {
        if (col[k] >= 0)
            continue;
        n += (size_t)snprintf(miss + n, n < sizeof miss ? sizeof miss - n : 0, "%s'%s'",
                              n ? ", " : "", r->lay->names[k]);
        if (n >= sizeof miss)
            n = sizeof miss - 1;
    }
    if (n == 0)
        return HH_OK;
    return hh_diag_set(d, HH_EHEADER,
                       "%s: line %llu: header lacks column %s (a %s file needs %s)",
                       hh_lines_name(r->lr), (unsigned long long)hh_lines_lineno(r->lr), miss,
                       r->kind == HH_MD_TICKS ? "ticks" : "bars",
                       r->kind == HH_MD_TICKS ? "ts,symbol,price,qty[,bid,ask]"
                                              : "ts,symbol,open,high,low,close,volume");
}

/* Does the header name exactly the layout's columns in their order (ticks:
 * the four required ones, or all six)?  Only then may rows take the fast
 * road, which reads the fields in that order. */
static bool canonical(const struct hh_md_reader *r)
{
    if (r->ncols != r->lay->n && !(r->kind == HH_MD_TICKS && r->ncols == r->lay->required))
        return false;
    for (int k = 0; k < r->ncols; k++)
        if (r->col[k] != k)
            return false;
    return true;
}

/* Map the header's columns to roles; warn about unknown and repeated ones. */
static int map_header(struct hh_md_reader *r, const char *line, size_t len,
                      struct hh_diag *d)
{
    const char *name = hh_lines_name(r->lr);
    unsigned long long line_no = hh_lines_lineno(r->lr);
    struct hh_field f[MD_MAX_COLS];
    char scratch[HH_MD_MAX_LINE];
    int col[COL_MAX], nf;

    if (len >= 3 && memcmp(line, "\xEF\xBB\xBF", 3) == 0)
        line += 3, len -= 3;
    nf = hh_csv_split(line, len, f, MD_MAX_COLS, scratch);
    if (nf < 0)
        return hh_diag_set(d, HH_EHEADER, "%s: line %llu: header: unterminated quote", name,
                           line_no);
    if (nf > MD_MAX_COLS)
        return hh_diag_set(d, HH_EHEADER, "%s: line %llu: header has %d columns (at most %d)",
                           name, line_no, nf, MD_MAX_COLS);
    for (int k = 0; k < COL_MAX; k++)
        col[k] = -1;
    for (int i = 0; i < nf; i++) {
        struct hh_field t = hh_field_trim(f[i]);
        int k = column_role(r->lay, t);

        if (k >= 0 && col[k] < 0) {
            col[k] = i;
            r->has[k] = true;
        } else {
            warnf(r, "%s: line %llu: %s column '%.*s' ignored\n", name, line_no,
                  k >= 0 ? "repeated" : "unknown", (int)t.n, t.p);
        }
    }
    r->ncols = nf;
    memcpy(r->col, col, sizeof r->col);
    for (int k = 0; k < COL_MAX; k++)
        if (col[k] >= 0)
            r->present[r->npresent++] = k;
    r->canonical = canonical(r);
    r->fast = r->canonical;
    return check_required(r, col, d);
}

/* Read the first non-blank line and map it as the header. */
static int read_header(struct hh_md_reader *r, struct hh_diag *d)
{
    const char *name = hh_lines_name(r->lr);
    const char *line;
    size_t len;
    int rc;

    do {
        rc = hh_lines_next(r->lr, &line, &len);
        if (rc == 0)
            return hh_diag_set(d, HH_EHEADER, "%s: empty file (no header)", name);
        if (rc == HH_EFULL || (rc == 1 && len > HH_MD_MAX_LINE))
            return hh_diag_set(d, HH_EHEADER, "%s: line %llu: header longer than %d bytes",
                               name, (unsigned long long)hh_lines_lineno(r->lr),
                               HH_MD_MAX_LINE);
        if (rc < 0)
            return hh_diag_set(d, HH_EIO, "%s: read error", name);
    } while (len == 0);
    return map_header(r, line, len, d);
}

int hh_md_open(struct hh_md_reader **out, const char *path, enum hh_md_kind kind,
               struct hh_instruments *inst, FILE *warn, struct hh_diag *d)
{
    struct hh_md_reader *r;
    int rc;

    *out = NULL;
    if (kind != HH_MD_TICKS && kind != HH_MD_BARS)
        return hh_diag_set(d, HH_EINVAL, "%s: unknown market-data kind", path);
    r = calloc(1, sizeof *r);
    if (!r)
        return hh_diag_set(d, HH_ENOMEM, "%s: out of memory", path);
    r->inst = inst;
    r->warn = warn;
    r->kind = kind;
    r->lay = &layouts[kind];
    r->last_ts = HH_TIME_NONE;
    rc = hh_lines_open(&r->lr, path, HH_MD_MAX_LINE, d);
    if (rc)
        goto out_free;
    rc = read_header(r, d);
    if (rc)
        goto out_close;
    *out = r;
    return HH_OK;

out_close:
    hh_lines_close(r->lr);
out_free:
    free(r);
    return rc;
}

void hh_md_close(struct hh_md_reader *r)
{
    if (!r)
        return;
    hh_lines_close(r->lr);
    free(r);
}

const struct hh_md_stats *hh_md_stats(const struct hh_md_reader *r)
{
    return &r->st;
}

uint64_t hh_md_offset(const struct hh_md_reader *r)
{
    return hh_lines_offset(r->lr) + r->pend_bytes;
}

uint64_t hh_md_size(const struct hh_md_reader *r)
{
    return hh_lines_size(r->lr);
}

/* ---- rows ---------------------------------------------------------------- */

/* Count a skipped row and report the first few on the warning stream.
 * Returns 0 (the row's verdict, for `return skip(...)`). */
static int skip(struct hh_md_reader *r, enum skip_reason why, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int skip(struct hh_md_reader *r, enum skip_reason why, const char *fmt, ...)
{
    va_list ap;

    r->st.skipped++;
    if (why == SKIP_ORDER)
        r->st.skipped_order++;
    else if (why == SKIP_FIELD)
        r->st.skipped_field++;
    else
        r->st.skipped_ohlc++;
    if (!r->warn || r->warned > MD_WARN_ROWS)
        return 0;
    if (r->warned++ == MD_WARN_ROWS) {
        fprintf(r->warn, "%s: more skipped rows not shown\n", hh_lines_name(r->lr));
        return 0;
    }
    fprintf(r->warn, "%s:%llu: skipped: ", hh_lines_name(r->lr),
            (unsigned long long)hh_lines_lineno(r->lr));
    va_start(ap, fmt);
    vfprintf(r->warn, fmt, ap);
    va_end(ap);
    fputc('\n', r->warn);
    return 0;
}

/*
 * Find the commas of an unquoted row: with cut[0] = -1, cut[1..k] get
 * their positions and cut[k + 1] = len, so field j is the text between
 * cut[j] and cut[j + 1].  16 bytes at a time where SSE2 is available
 * (x86-64 always; the last partial block is an overlapping load that stays
 * inside the line).  Returns the field count k + 1, or -1 when the row
 * holds a quote (the caller then takes the RFC 4180 path).
 */
HOT int find_commas(struct hh_md_reader *r, const char *line, size_t len)
{
    int32_t *cut = r->cut;
    size_t i = 0;
    int k = 1;

    cut[0] = -1;
#ifdef __SSE2__
    const __m128i comma = _mm_set1_epi8(','), quote = _mm_set1_epi8('"');

    for (; i + 16 <= len; i += 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(line + i));
        unsigned mc = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, comma));

        if (_mm_movemask_epi8(_mm_cmpeq_epi8(v, quote)))
            return -1;
        for (; mc; mc &= mc - 1)
            cut[k++] = (int32_t)(i + (size_t)__builtin_ctz(mc));
    }
    if (i < len && len >= 16) {
        size_t base = len - 16;
        unsigned fresh = ~((1u << (i - base)) - 1);   /* bytes not yet seen */
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(line + base));
        unsigned mc = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, comma)) & fresh;

        if ((unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, quote)) & fresh)
            return -1;
        for (; mc; mc &= mc - 1)
            cut[k++] = (int32_t)(base + (size_t)__builtin_ctz(mc));
        i = len;
    }
#endif
    for (; i < len; i++) {
        if (line[i] == ',')
            cut[k++] = (int32_t)i;
        else if (line[i] == '"')
            return -1;
    }
    cut[k] = (int32_t)len;
    return k;
}

/*
 * Split a row.  Returns the row's field count, or -1 for a quoted field
 * that does not close.  Unquoted rows leave their cuts in r->cut; quoted
 * ones (rare) are split by hh_csv_split, unescaped into r->scratch, their
 * named fields kept in r->qf.  Either way fld() then gives a named field.
 */
HOT int split_row(struct hh_md_reader *r, const char *line, size_t len)
{
    struct hh_field all[MD_MAX_COLS];
    int nf = find_commas(r, line, len);

    r->quoted = nf < 0;
    if (__builtin_expect(nf > 0, 1))
        return nf;
    nf = hh_csv_split(line, len, all, MD_MAX_COLS, r->scratch);
    if (nf == r->ncols)
        for (int j = 0; j < r->npresent; j++)
            r->qf[r->present[j]] = all[r->col[r->present[j]]];
    return nf;
}

/* Named field c (COL_*, present in the header) of the row just split. */
HOT struct hh_field fld(const struct hh_md_reader *r, const char *line, int c)
{
    int k = r->col[c];
    struct hh_field f;

    if (__builtin_expect(r->quoted, 0))
        return r->qf[c];
    f.p = line + r->cut[k] + 1;
    f.n = (size_t)(r->cut[k + 1] - r->cut[k] - 1);
    return f;
}

/*
 * Field getters: each takes the fast path inline and leaves everything
 * else — blanks to trim, odd shapes, values out of bounds, the message for
 * a skipped row — to an out-of-line "slow" twin.  They return true, or
 * skip (count and report) the row and return false.
 */
/* A price that must be > 0; bid/ask (optional) may be empty or 0, meaning
 * no quote. */
COLD bool price_slow(struct hh_md_reader *r, const char *line, int col,
                     bool optional, hh_price_t *out)
{
    struct hh_field t = hh_field_trim(fld(r, line, col));
    const char *why = "not a number";

    if (optional && t.n == 0) {
        *out = 0;
        return true;
    }
    if (hh_md_parse_price(t.p, t.n, out, &why))
        return skip(r, SKIP_FIELD, "field '%s': %s", r->lay->names[col],
                    t.n ? why : "empty"), false;
    if (*out > 0 || (optional && *out == 0))
        return true;
    return skip(r, SKIP_FIELD, "field '%s': not positive", r->lay->names[col]), false;
}

HOT bool get_price(struct hh_md_reader *r, const char *line, int col,
                   bool optional, hh_price_t *out)
{
    struct hh_field v = fld(r, line, col);

    if (__builtin_expect(price_fast(v.p, v.n, out) && *out > 0, 1))
        return true;
    return price_slow(r, line, col, optional, out);
}

/* A quantity that must be >= 0. */
COLD bool qty_slow(struct hh_md_reader *r, const char *line, int col, hh_qty_t *out)
{
    struct hh_field t = hh_field_trim(fld(r, line, col));
    const char *why = "not a number";

    if (hh_md_parse_qty(t.p, t.n, out, &why))
        return skip(r, SKIP_FIELD, "field '%s': %s", r->lay->names[col],
                    t.n ? why : "empty"), false;
    if (*out >= 0)
        return true;
    return skip(r, SKIP_FIELD, "field '%s': negative", r->lay->names[col]), false;
}

HOT bool get_qty(struct hh_md_reader *r, const char *line, int col, hh_qty_t *out)
{
    struct hh_field v = fld(r, line, col);

    if (__builtin_expect(qty_fast(v.p, v.n, out), 1))
        return true;
    return qty_slow(r, line, col, out);
}

/* The ts field. */
COLD bool ts_slow(struct hh_md_reader *r, const char *line, hh_time_t *out)
{
    struct hh_field t = hh_field_trim(fld(r, line, COL_TS));
    const char *why = "not a timestamp";

    if (hh_md_parse_time(&r->dc, t.p, t.n, out, &why) == HH_OK)
        return true;
    return skip(r, SKIP_FIELD, "field 'ts': %s", t.n ? why : "empty"), false;
}

HOT bool get_ts(struct hh_md_reader *r, const char *line, hh_time_t *out)
{
    struct hh_field v = fld(r, line, COL_TS);

    if (__builtin_expect(time_fast(&r->dc, v.p, v.n, out), 1))
        return true;
    return ts_slow(r, line, out);
}

/* The symbol field: non-empty and short enough once trimmed. */
COLD bool symbol_slow(struct hh_md_reader *r, const char *line, struct hh_field *sym)
{
    *sym = hh_field_trim(fld(r, line, COL_SYMBOL));
    if (sym->n == 0)
        return skip(r, SKIP_FIELD, "field 'symbol': empty"), false;
    if (sym->n >= HH_SYMBOL_MAX)
        return skip(r, SKIP_FIELD, "field 'symbol': longer than %d bytes",
                    HH_SYMBOL_MAX - 1), false;
    return true;
}

HOT bool get_symbol(struct hh_md_reader *r, const char *line, struct hh_field *sym)
{
    *sym = fld(r, line, COL_SYMBOL);
    if (__builtin_expect(sym->n - 1 < HH_SYMBOL_MAX - 1 && sym->p[0] > ' ' &&
                         sym->p[sym->n - 1] > ' ', 1))
        return true;
    return symbol_slow(r, line, sym);
}

/* Why a row's fields could not be split. */
COLD bool split_failed(struct hh_md_reader *r, size_t len, int nf)
{
    if (len > HH_MD_MAX_LINE)
        return skip(r, SKIP_FIELD, "line longer than %d bytes", HH_MD_MAX_LINE), false;
    if (nf < 0)
        return skip(r, SKIP_FIELD, "unterminated quote"), false;
    return skip(r, SKIP_FIELD, "%d field%s, header has %d", nf, nf == 1 ? "" : "s",
                r->ncols), false;
}

/* Field count and the fields common to both kinds (ts, symbol).  Returns
 * false when the row was skipped. */
HOT bool row_begin(struct hh_md_reader *r, const char *line, size_t len,
                   hh_time_t *ts, struct hh_field *sym)
{
    int nf = -1;

    if (__builtin_expect(len > HH_MD_MAX_LINE, 0) ||
        __builtin_expect((nf = split_row(r, line, len)) != r->ncols, 0))
        return split_failed(r, len, nf);
    return get_ts(r, line, ts) && get_symbol(r, line, sym);
}

/* A row earlier than the last accepted one. */
COLD bool order_slow(struct hh_md_reader *r, hh_time_t ts)
{
    char a[40], b[40];

    hh_time_format(ts, a, sizeof a);
    hh_time_format(r->last_ts, b, sizeof b);
    return skip(r, SKIP_ORDER, "out of order: %s is before %s (last accepted row)", a, b),
           false;
}

HOT bool in_order(struct hh_md_reader *r, hh_time_t ts)
{
    if (__builtin_expect(ts >= r->last_ts, 1))
        return true;
    return order_slow(r, ts);
}

/* A symbol not in the cache: intern it and cache it in its first slot if
 * free, else the second. */
COLD int resolve_slow(struct hh_md_reader *r, struct hh_field sym, hh_iid_t *iid)
{
    struct hh_md__sym *e;
    uint64_t w0, w1;
    size_t h;
    int rc = hh_inst_intern(r->inst, sym.p, sym.n, iid);

    if (rc == HH_ENOMEM)
        return rc;
    if (rc) {
        skip(r, SKIP_FIELD, "field 'symbol': %s",
             rc == HH_EINVAL ? "not a valid symbol" : hh_strerror(rc));
        return 1;
    }
    hh_md__sym_words(sym.p, sym.n, &w0, &w1);
    h = hh_md__sym_slot(w0, w1, sym.n);
    e = &r->sc[r->sc[h].len == 0 ? h : h ^ 1];
    memcpy(e->sym, sym.p, sym.n);
    e->len = (uint32_t)sym.n;
    e->w0 = w0;
    e->w1 = w1;
    e->iid = *iid;
    return HH_OK;
}

/* Resolve (interning) a symbol.  Returns HH_OK, or an error: HH_ENOMEM is
 * passed up, anything else skips the row (returned as 1). */
HOT int resolve(struct hh_md_reader *r, struct hh_field sym, hh_iid_t *iid)
{
    uint64_t w0, w1;

    hh_md__sym_words(sym.p, sym.n, &w0, &w1);
    if (hh_md__sym_find(r, sym.p, sym.n, w0, w1, iid))
        return HH_OK;
    return resolve_slow(r, sym, iid);
}

/* Parse one tick row: 1 accepted, 0 skipped, <0 error. */
HOT int parse_tick(struct hh_md_reader *r, const char *line, size_t len,
                      struct hh_tick *t)
{
    struct hh_field sym;
    int rc;

    if (!row_begin(r, line, len, &t->ts, &sym))
        return 0;
    if (!get_price(r, line, COL_PRICE, false, &t->price) ||
        !get_qty(r, line, COL_QTY, &t->qty))
        return 0;
    t->bid = t->ask = 0;
    if (r->has[COL_BID] && !get_price(r, line, COL_BID, true, &t->bid))
        return 0;
    if (r->has[COL_ASK] && !get_price(r, line, COL_ASK, true, &t->ask))
        return 0;
    if (!in_order(r, t->ts))
        return 0;
    rc = resolve(r, sym, &t->iid);
    if (rc)
        return rc < 0 ? rc : 0;
    r->last_ts = t->ts;
    return 1;
}

/* Bar consistency: the extremes bound the open and the close. */
static bool bar_consistent(struct hh_md_reader *r, const struct hh_bar *b)
{
    hh_price_t hi_oc = b->open > b->close ? b->open : b->close;
    hh_price_t lo_oc = b->open < b->close ? b->open : b->close;

    if (b->high < b->low)
        return skip(r, SKIP_OHLC, "inconsistent bar: high < low"), false;
    if (b->high < hi_oc)
        return skip(r, SKIP_OHLC, "inconsistent bar: high < max(open, close)"), false;
    if (b->low > lo_oc)
        return skip(r, SKIP_OHLC, "inconsistent bar: low > min(open, close)"), false;
    return true;
}

/* Parse one bar row: 1 accepted, 0 skipped, <0 error. */
static int parse_bar(struct hh_md_reader *r, const char *line, size_t len, struct hh_bar *b)
{
    struct hh_field sym;
    int rc;

    if (!row_begin(r, line, len, &b->ts, &sym))
        return 0;
    if (!get_price(r, line, COL_OPEN, false, &b->open) ||
        !get_price(r, line, COL_HIGH, false, &b->high) ||
        !get_price(r, line, COL_LOW, false, &b->low) ||
        !get_price(r, line, COL_CLOSE, false, &b->close) ||
        !get_qty(r, line, COL_VOLUME, &b->volume))
        return 0;
    if (!bar_consistent(r, b) || !in_order(r, b->ts))
        return 0;
    rc = resolve(r, sym, &b->iid);
    if (rc)
        return rc < 0 ? rc : 0;
    r->last_ts = b->ts;
    return 1;
}

/*
 * Next non-blank data line: 1 with *line and *len set, 0 at end of input, <0
 * on a read error.  Over-long lines are counted as skipped rows here.
 */
HOT int next_line(struct hh_md_reader *r, const char **line, size_t *len)
{
    hh_md__sync(r);
    for (;;) {
        int rc = hh_lines_next(r->lr, line, len);

        if (rc == HH_EFULL) {
            r->st.rows++;
            skip(r, SKIP_FIELD, "line longer than %d bytes", HH_MD_MAX_LINE);
            continue;
        }
        if (rc <= 0)
            return rc;
        if (*len == 0)
            continue;
        r->st.rows++;
        return 1;
    }
}

int hh_md_next_ticks(struct hh_md_reader *r, struct hh_tick *out, int n)
{
    const char *line;
    size_t len;
    int rc;

    if (r->kind != HH_MD_TICKS || n < 1)
        return HH_EINVAL;
    for (;;) {
        if (r->fast && (rc = hh_md__fast_ticks(r, out, n)) > 0)
            return rc;
        if ((rc = next_line(r, &line, &len)) != 1)
            return rc;
        if ((rc = parse_tick(r, line, len, out)) != 0) {
            if (rc > 0)
                r->st.accepted++;
            return rc;
        }
    }
}

int hh_md_next_bars(struct hh_md_reader *r, struct hh_bar *out, int n)
{
    const char *line;
    size_t len;
    int rc;

    if (r->kind != HH_MD_BARS || n < 1)
        return HH_EINVAL;
    for (;;) {
        if (r->fast && (rc = hh_md__fast_bars(r, out, n)) > 0)
            return rc;
        if ((rc = next_line(r, &line, &len)) != 1)
            return rc;
        if ((rc = parse_bar(r, line, len, out)) != 0) {
            if (rc > 0)
                r->st.accepted++;
            return rc;
        }
    }
}

int hh_md_next_tick(struct hh_md_reader *r, struct hh_tick *out)
{
    return hh_md_next_ticks(r, out, 1);
}

int hh_md_next_bar(struct hh_md_reader *r, struct hh_bar *out)
{
    return hh_md_next_bars(r, out, 1);
}
