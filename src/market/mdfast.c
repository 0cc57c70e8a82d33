/*
 * mdfast.c — the fast road of the market-data readers (see mdfile_int.h).
 *
 * A row of the canonical layout is read straight from the line reader's
 * buffer, without hh_lines_next():
 *  - split: 64 bytes per step (four SSE2 loads); the newline ends the row
 *    and the commas before it give every field's bounds before any field
 *    is read, so the fields are parsed independently of each other;
 *  - the timestamp: the whole text equal to the last one parsed (bars of
 *    one minute share it) gives its value at once; the same first 16 bytes
 *    (date and HH:MM) need only the seconds, fraction and offset read;
 *    anything else goes through hh_md_parse_time() once and is cached;
 *  - the symbol: its id from the symbol cache (a miss declines: only the
 *    generic road interns);
 *  - prices and quantities: eight bytes at a time (SWAR), validated and
 *    converted with a few masks and three multiplications.
 * Every shape outside the narrow one read here declines, and so does
 * every row the generic road would skip (out of order, inconsistent bar,
 * a price <= 0): the generic road then decides, counts and reports.
 *
 * Invariants:
 *  - a row is accepted only when its fields, as the generic road would cut
 *    them, hold exactly the shapes read here: no quote anywhere (a quoted
 *    row is split differently), no blank (a blank makes every parser here
 *    decline), the header's field count; so the values equal the generic
 *    parsers' — the unit tests and fuzz_mdfile compare both roads row by
 *    row, with their statistics and warnings;
 *  - loads stay within the buffer: the row is split only when 64 bytes or
 *    more are buffered, reads reach 128 bytes past its start at most, and
 *    the line reader keeps HH_LINES_PAD readable bytes past its data.
 */
#include "market/mdfile_int.h"

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#define ZEROS 0x3030303030303030ull    /* '0' in every byte */

/* ---- numbers, eight bytes at a time --------------------------------------- */

static inline uint64_t load8(const char *p)
{
    uint64_t w;

    memcpy(&w, p, 8);
    return w;
}

/* Bytes of x (text xor '0') that are not digits: bit 8i + 7 set for each
 * such byte i.  A digit becomes 0..9; any other byte becomes >= 10 and
 * gets its top bit set by the addition, or is >= 0x80 already.  A carry
 * out of a byte only reaches later bytes: every non-digit is flagged, and
 * a digit only after a byte >= 0x80 (flagged itself) — so "no flag in a
 * range" proves the range is all digits, and the lowest flag is the first
 * non-digit. */
static inline uint64_t nondigits(uint64_t x)
{
    return ((x + 0x7676767676767676ull) | x) & 0x8080808080808080ull;
}

/* How many leading bytes of x (text xor '0') are digits: 0..8. */
static inline unsigned digits8(uint64_t x)
{
    uint64_t m = nondigits(x);

    return m ? (unsigned)__builtin_ctzll(m) >> 3 : 8;
}

/* The eight digit values of x (0..9 each, the most significant in the
 * lowest byte) as one number: pairs, then quads, then the whole. */
static inline uint64_t value8(uint64_t x)
{
    x = (x * 2561) >> 8;                                           /* 10 * 256 + 1 */
    x = ((x & 0x00FF00FF00FF00FFull) * 6553601) >> 16;             /* 100 * 2^16 + 1 */
    return ((x & 0x0000FFFF0000FFFFull) * 42949672960001ull) >> 32; /* 10^4 * 2^32 + 1 */
}

/* The k (1..8) leading digits of x as a number. */
static inline uint64_t lead_value(uint64_t x, unsigned k)
{
    return value8(x << (8 * (8 - k)));
}

/* An ASCII digit. */
static inline bool digit(char ch)
{
    return (unsigned char)(ch - '0') <= 9;
}

/* The low n (1..8) bytes. */
static inline uint64_t low_bytes(size_t n)
{
    return ~0ull >> (64 - 8 * n);
}

/* Two parts for a price longer than eight bytes: I 1..8 digits, then
 * optionally '.' and 1..4 places. */
static bool long_price(const char *p, size_t n, hh_price_t *out)
{
    uint64_t x = load8(p) ^ ZEROS, y;
    size_t k = (size_t)digits8(x), m = n - k - 1;

    if (k == 0 || p[k] != '.' || m - 1 >= 4)
        return false;
    y = load8(p + k + 1) ^ ZEROS;
    if (digits8(y) < m)
        return false;
    /* The m places left-aligned in the low four bytes of eight: "0000FFFF"
     * read as eight digits is F * 10^(4 - m). */
    *out = (int64_t)lead_value(x, (unsigned)k) * HH_FX_SCALE +
           (int64_t)value8((y & low_bytes(m)) << 32);
    return true;
}

/*
 * A price field p[0..n) of the shape "I[.F]", I 1..8 digits and F 1..4
 * (which hh_dec_parse reads as I.F exactly): true with *out set; false for
 * any other shape.  Up to eight bytes (every price below a crore with two
 * places) in one word, shifted so the field ends at its top byte: its
 * non-digits must be exactly one '.', which is squeezed out by moving the
 * bytes below it up one, and the digits are read at once and scaled by
 * the missing places.
 */
HOT bool any_price(const char *p, size_t n, hh_price_t *out)
{
    static const int64_t scale[5] = { 0, 1000, 100, 10, 1 };   /* by places */
    uint64_t x, nd, above;
    unsigned j, m;

    if (n - 1 >= 8)
        return n > 8 && long_price(p, n, out);
    x = (load8(p) ^ ZEROS) << (64 - 8 * n);         /* zeros (digits) below */
    nd = nondigits(x);
    if (nd == 0) {
        *out = (int64_t)value8(x) * HH_FX_SCALE;
        return true;
    }
    j = (unsigned)__builtin_ctzll(nd) >> 3;          /* the '.' is byte j */
    m = 7 - j;                                       /* places */
    if ((nd & (nd - 1)) || (x >> (8 * j) & 0xFF) != ('.' ^ '0') || m - 1 >= 4 ||
        j + n < 9)                                   /* no integer digit */
        return false;
    above = ~0ull << (8 * j + 8);
    x = (x & above) | ((x << 8) & ~above);
    *out = (int64_t)value8(x) * scale[m];
    return true;
}

/*
 * A price field p[0..n): first the shape most files have throughout, two
 * places and four to eight bytes ("500.05", "23500.10"), read from the
 * eight bytes that end the field — inside the row: a price field comes
 * after a parsed timestamp (16 bytes at least) and a symbol — with the
 * dot's place fixed; then any_price().
 */
HOT bool price(const char *p, size_t n, hh_price_t *out)
{
    uint64_t x;

    if (n - 4 < 5) {
        x = (load8(p + n - 8) ^ ZEROS) & ~0ull << (64 - 8 * n); /* earlier bytes: 0 */
        if ((x >> 40 & 0xFF) == ('.' ^ '0')) {
            x = (x & 0xFFFF000000000000ull) | (x << 8 & 0x0000FFFFFFFFFF00ull);
            if (!nondigits(x)) {
                *out = (int64_t)value8(x) * 100;
                return true;
            }
        }
    }
    return any_price(p, n, out);
}

/* A quantity field p[0..n): 1..18 plain digits. */
HOT bool quantity(const char *p, size_t n, hh_qty_t *out)
{
    uint64_t x = load8(p) ^ ZEROS, v;

    if (n - 1 < 8) {
        if (digits8(x) < n)
            return false;
        *out = (int64_t)lead_value(x, (unsigned)n);
        return true;
    }
    if (n - 9 > 9 || digits8(x) < 8)                /* n outside 9..18 */
        return false;
    v = value8(x);
    for (size_t i = 8; i < n; i++) {
        unsigned d = (unsigned char)p[i] - '0';

        if (d > 9)
            return false;
        v = v * 10 + d;
    }
    *out = (int64_t)v;
    return true;
}

/* ---- the timestamp --------------------------------------------------------- */

/* Bit i set when a[i] == b[i], for the 32 bytes at a and b. */
static inline uint32_t same32(const char *a, const char *b)
{
#ifdef __SSE2__
    __m128i a0 = _mm_loadu_si128((const __m128i *)(const void *)a);
    __m128i a1 = _mm_loadu_si128((const __m128i *)(const void *)(a + 16));
    __m128i b0 = _mm_loadu_si128((const __m128i *)(const void *)b);
    __m128i b1 = _mm_loadu_si128((const __m128i *)(const void *)(b + 16));

    return (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(a0, b0)) |
           (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(a1, b1)) << 16;
#else
    uint32_t m = 0;

    for (int i = 0; i < 32; i++)
        m |= (uint32_t)(a[i] == b[i]) << i;
    return m;
#endif
}

/*
 * Seconds, fraction and offset of a timestamp s[0..n) whose first 16 bytes
 * equal the cached text's (so n >= 16: the cached text has no comma):
 * s[16] ':', two digits <= 59, optionally '.' and 1..7 digits, then the
 * cached offset text, ending the field.  (Longer fractions take the full
 * parse.)
 */
HOT bool same_minute(const struct hh_md__ts *c, const char *s, size_t n, hh_time_t *out)
{
    static const int64_t ns_per_digit[8] = {
        0, 100000000, 10000000, 1000000, 100000, 10000, 1000, 100,
    };
    size_t offlen = c->len - c->off;
    uint64_t x, mask = ~0ull >> (64 - 8 * offlen);
    unsigned nd;
    int64_t frac = 0;
    const char *p = s + 19;

    if (s[16] != ':' || (unsigned char)(s[17] - '0') > 5 || !digit(s[18]))
        return false;
    if (*p == '.' && digit(p[1]) && digit(p[2]) && digit(p[3]) && !digit(p[4])) {
        frac = ((p[1] - '0') * 100 + (p[2] - '0') * 10 + (p[3] - '0')) * HH_NS_PER_MS;
        p += 4;                                      /* milliseconds, the usual */
    } else if (*p == '.') {
        x = load8(p + 1) ^ ZEROS;
        nd = digits8(x);
        if (nd - 1 >= 7)
            return false;
        frac = (int64_t)lead_value(x, nd) * ns_per_digit[nd];
        p += 1 + nd;
    }
    if (p + offlen != s + n || ((load8(p) ^ load8(c->text + c->off)) & mask) != 0)
        return false;
    *out = c->minute + ((s[17] - '0') * 10 + (s[18] - '0')) * HH_NS_PER_S + frac;
    return true;
}

/* Remember s[0..n) (n < HH_MD__TS_TEXT), which parsed to v, for the rows
 * after it. */
static void ts_remember(struct hh_md__ts *c, const char *s, size_t n, hh_time_t v)
{
    size_t i = 19;
    int64_t frac = 0, scale = HH_NS_PER_S;

    memcpy(c->text, s, n);
    c->len = (uint32_t)n;
    c->value = v;
    c->off = 0;
    /* The fixed layout: seconds at 17..18 (the parse checked the digits),
     * then an optional fraction, then the offset (at most eight bytes). */
    if (s[16] != ':')
        return;
    if (s[i] == '.')
        for (i++; i < n && (unsigned char)(s[i] - '0') <= 9; i++)
            frac += (s[i] - '0') * (scale /= 10);
    if (n - i > 8)
        return;
    c->off = (uint32_t)i;
    c->minute = v - ((s[17] - '0') * 10 + (s[18] - '0')) * HH_NS_PER_S - frac;
}

/* The ts field s[0..n): the cached text, the cached minute, or one full
 * parse (then cached). */
HOT bool timestamp(struct hh_md_reader *r, const char *s, size_t n, hh_time_t *out)
{
    struct hh_md__ts *c = &r->tc;

    if (c->len) {
        uint32_t same = same32(s, c->text);

        if (n == c->len && (same | (~0u << n)) == ~0u) {
            *out = c->value;
            return true;
        }
        if ((same & 0xFFFF) == 0xFFFF && c->off && same_minute(c, s, n, out))
            return true;
    }
    if (hh_md_parse_time(&r->dc, s, n, out, NULL) != HH_OK)
        return false;
    if (n < HH_MD__TS_TEXT)
        ts_remember(c, s, n, *out);
    return true;
}

/* ---- rows ------------------------------------------------------------------ */

#define ROW_MAX 128    /* longest row the fast road reads (bars: ~75 bytes) */

/* Where a row's fields are: field j is line[at[j] + 1 .. at[j + 1]). */
struct cuts {
    int32_t at[HH_MD__COLS + 1];
};

#define FIELD(j) line + c.at[j] + 1, (size_t)(c.at[(j) + 1] - c.at[j] - 1)

/* Commas (*comma) and newlines (*nl) among the 64 bytes at p, as bit
 * masks; *quoted is set when any of them is a double quote. */
HOT void scan64(const char *p, uint64_t *comma, uint64_t *nl, bool *quoted)
{
#ifdef __SSE2__
    const __m128i cm = _mm_set1_epi8(','), lf = _mm_set1_epi8('\n'), dq = _mm_set1_epi8('"');
    __m128i v0 = _mm_loadu_si128((const __m128i *)(const void *)p);
    __m128i v1 = _mm_loadu_si128((const __m128i *)(const void *)(p + 16));
    __m128i v2 = _mm_loadu_si128((const __m128i *)(const void *)(p + 32));
    __m128i v3 = _mm_loadu_si128((const __m128i *)(const void *)(p + 48));
    __m128i q = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v0, dq), _mm_cmpeq_epi8(v1, dq)),
                             _mm_or_si128(_mm_cmpeq_epi8(v2, dq), _mm_cmpeq_epi8(v3, dq)));

    *comma = (uint64_t)(uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(v0, cm)) |
             (uint64_t)(uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(v1, cm)) << 16 |
             (uint64_t)(uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(v2, cm)) << 32 |
             (uint64_t)(uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(v3, cm)) << 48;
    *nl = (uint64_t)(uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(v0, lf)) |
          (uint64_t)(uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(v1, lf)) << 16 |
          (uint64_t)(uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(v2, lf)) << 32 |
          (uint64_t)(uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(v3, lf)) << 48;
    *quoted |= _mm_movemask_epi8(q) != 0;
#else
    *comma = *nl = 0;
    for (int i = 0; i < 64; i++) {
        *comma |= (uint64_t)(p[i] == ',') << i;
        *nl |= (uint64_t)(p[i] == '\n') << i;
        *quoted |= p[i] == '"';
    }
#endif
}

/*
 * The row at the start of the buffered bytes p[0..n) (n >= 64, so the 128
 * bytes this may load stay within the line reader's pad): its newline must
 * lie within n and ROW_MAX.  *used gets the bytes up to and including the
 * newline; the row ends before it (and before a '\r' there, as
 * hh_lines_next() would).  The row must hold exactly nf fields and no
 * quote (the generic road unquotes); c gets where they are.  Every
 * delimiter is found before any field is read, so no field waits for the
 * parse of the one before it.
 */
HOT bool split(const char *p, size_t n, int nf, struct cuts *c, size_t *used)
{
    uint64_t lo, hi = 0, nl, nh = 0;
    bool quoted = false, found = true;
    size_t e;

    scan64(p, &lo, &nl, &quoted);
    if (nl) {
        e = (size_t)__builtin_ctzll(nl);
        lo &= (1ull << e) - 1;                   /* commas of this row only */
    } else {
        scan64(p + 64, &hi, &nh, &quoted);
        if (!nh)
            return false;                        /* longer than ROW_MAX */
        e = 64 + (size_t)__builtin_ctzll(nh);
        hi &= (1ull << (e - 64)) - 1;
    }
    if (e >= n)
        return false;
    *used = e + 1;
    if (e > 0 && p[e - 1] == '\r')
        e--;
    /* A quote past the row's end is another row's: look again then. */
    if (quoted && memchr(p, '"', e))
        return false;
    /* Exactly nf - 1 commas, taken lowest first without a branch each. */
    c->at[0] = -1;
    for (int k = 1; k < nf; k++) {
        uint64_t t = lo ? lo : hi;

        found &= t != 0;
        c->at[k] = (lo ? 0 : 64) + __builtin_ctzll(t | 1ull << 63);
        hi = lo ? hi : hi & (hi - 1);
        lo &= lo - 1;
    }
    c->at[nf] = (int32_t)e;
    return found && !(lo | hi);
}

/* ts and symbol, the start of every row: a timestamp not before the last
 * accepted row's and a cached symbol. */
HOT bool row_head(struct hh_md_reader *r, const char *line, const struct cuts *c,
                  hh_time_t *ts, hh_iid_t *iid)
{
    const char *sym = line + c->at[1] + 1;
    size_t n = (size_t)(c->at[2] - c->at[1] - 1);
    uint64_t w0, w1;

    if (!timestamp(r, line, (size_t)c->at[1], ts) || *ts < r->last_ts)
        return false;
    hh_md__sym_words_padded(sym, n, &w0, &w1);
    return n > 0 && hh_md__sym_find(r, sym, n, w0, w1, iid);
}

/* A price field that must be > 0. */
HOT bool positive(const char *p, size_t n, hh_price_t *out)
{
    return price(p, n, out) && *out > 0;
}

void hh_md__sync(struct hh_md_reader *r)
{
    if (r->pend_lines)
        hh_lines_consume(r->lr, r->pend_bytes, r->pend_lines);
    r->pend_bytes = r->pend_lines = 0;
    r->win_n = 0;
}

/* The row at the start of the window, split: false when too few bytes are
 * buffered for the fast road (64: the pad covers the loads past them) or
 * the row is not splittable.  The window is taken from the line reader
 * only when the last one is used up, so a row costs no call there. */
HOT bool next_row(struct hh_md_reader *r, const char **line, struct cuts *c, size_t *used)
{
    if (r->win_n < ROW_MAX - 64) {
        hh_md__sync(r);
        r->win_n = hh_lines_buffered(r->lr, &r->win);
        if (r->win_n < ROW_MAX - 64)
            return false;
    }
    *line = r->win;
    return split(r->win, r->win_n, r->ncols, c, used);
}

/* Hand the row out: counted as read and accepted; its bytes are owed to
 * the line reader until the next sync. */
HOT void take_row(struct hh_md_reader *r, hh_time_t ts, size_t used)
{
    r->last_ts = ts;
    r->win += used;
    r->win_n -= used;
    r->pend_bytes += used;
    r->pend_lines++;
    r->st.rows++;
    r->st.accepted++;
    r->fast_rows++;
}

HOT bool fast_bar(struct hh_md_reader *r, struct hh_bar *b)
{
    const char *line;
    struct cuts c;
    size_t used;
    hh_price_t hi_oc, lo_oc;

    if (!next_row(r, &line, &c, &used) || !row_head(r, line, &c, &b->ts, &b->iid) ||
        !positive(FIELD(2), &b->open) || !positive(FIELD(3), &b->high) ||
        !positive(FIELD(4), &b->low) || !positive(FIELD(5), &b->close) ||
        !quantity(FIELD(6), &b->volume))
        return false;
    hi_oc = b->open > b->close ? b->open : b->close;
    lo_oc = b->open < b->close ? b->open : b->close;
    if (b->high < hi_oc || b->low > lo_oc)          /* also catches high < low */
        return false;
    take_row(r, b->ts, used);
    return true;
}

/* An optional quote (bid, ask): empty (0) or a price >= 0. */
static inline bool quote(const char *p, size_t n, hh_price_t *out)
{
    if (n == 0) {
        *out = 0;
        return true;
    }
    return price(p, n, out);
}

HOT bool fast_tick(struct hh_md_reader *r, struct hh_tick *t)
{
    const char *line;
    struct cuts c;
    size_t used;

    if (!next_row(r, &line, &c, &used) || !row_head(r, line, &c, &t->ts, &t->iid) ||
        !positive(FIELD(2), &t->price) || !quantity(FIELD(3), &t->qty))
        return false;
    t->bid = t->ask = 0;
    if (r->ncols == 6 && (!quote(FIELD(4), &t->bid) || !quote(FIELD(5), &t->ask)))
        return false;
    take_row(r, t->ts, used);
    return true;
}

int hh_md__fast_bars(struct hh_md_reader *r, struct hh_bar *out, int n)
{
    int k = 0;

    while (k < n && fast_bar(r, &out[k]))
        k++;
    return k;
}

int hh_md__fast_ticks(struct hh_md_reader *r, struct hh_tick *out, int n)
{
    int k = 0;

    while (k < n && fast_tick(r, &out[k]))
        k++;
    return k;
}

void hh_md__generic_only(struct hh_md_reader *r, bool on)
{
    r->fast = r->canonical && !on;
}

uint64_t hh_md__fast_rows(const struct hh_md_reader *r)
{
    return r->fast_rows;
}
