/*
 * mdfile_int.h — names shared by the files of the market-data reader
 * (mdfile.c: opening, the header and the generic road; mdfast.c: the fast
 * road), its tests and its fuzz target, and nothing else.
 *
 * A row takes one of two roads.  The fast road (mdfast.c) reads a row of
 * the canonical layout straight from its text in one pass and either
 * accepts it — with exactly the values the generic road would give — or
 * declines it without a trace; the generic road (mdfile.c) then splits,
 * trims and parses the row with the exact parsers, and is the only one
 * that skips, counts reasons, reports or interns.  Both share the symbol
 * cache and the timestamp caches, which map text to values and so cannot
 * make the roads differ.
 */
#ifndef HH_MDFILE_INT_H
#define HH_MDFILE_INT_H

#include "core/csv.h"
#include "core/lines.h"
#include "market/mdfile.h"

#include <stdbool.h>
#include <string.h>

/* Functions of the per-row path are inlined into it; the rare branches
 * (errors, messages) stay out of line so the loop stays small. */
#define HOT  static inline __attribute__((always_inline))
#define COLD static __attribute__((noinline, cold))

#define HH_MD__COLS      7     /* named columns (COL_* in mdfile.c) */
#define HH_MD__SYM_BITS  7     /* symbol -> iid cache: 2^7 slots, 2-way (slot, slot ^ 1) */
#define HH_MD__SYM_SLOTS (1u << HH_MD__SYM_BITS)
#define HH_MD__TS_TEXT   32    /* longest timestamp text the fast road caches */

/* A symbol seen before and its id.  w0/w1 are its first sixteen bytes,
 * zero-filled (hh_md__sym_words), so that a compare needs no memcmp call up
 * to 16 bytes.  Only symbols that were interned are cached. */
struct hh_md__sym {
    uint64_t w0, w1;
    uint32_t len;                  /* 0: empty slot */
    hh_iid_t iid;
    char sym[HH_SYMBOL_MAX];
};

/*
 * The last timestamp text the fast road parsed in full and what it means.
 * text[0..len) is that text (no comma, no quote: it parsed); when it has
 * the fixed layout "YYYY-MM-DD?HH:MM:SS[.f](offset)" `minute` is its value
 * at second 0 of its minute and text[off..len) its offset, so a row whose
 * first 16 bytes match needs only its seconds, fraction and offset read.
 */
struct hh_md__ts {
    char text[HH_MD__TS_TEXT + 8]; /* + 8: an offset is compared as one word */
    uint32_t len;                  /* 0: nothing cached */
    uint32_t off;                  /* start of the offset; 0: no minute form */
    hh_time_t value;
    hh_time_t minute;
};

struct hh_md_reader {
    struct hh_lines *lr;
    struct hh_instruments *inst;   /* borrowed */
    FILE *warn;                    /* borrowed, may be NULL */
    enum hh_md_kind kind;
    const struct hh_md__layout *lay;
    int ncols;                     /* fields in the header */
    int col[HH_MD__COLS];          /* position of each named column, -1 absent */
    int npresent;                  /* named columns the header has ... */
    int present[HH_MD__COLS];      /* ... and which (COL_*) */
    bool has[HH_MD__COLS];         /* the header names this column */
    bool fast;                     /* rows may take the fast road: the header is
                                      canonical and generic_only is off */
    bool canonical;                /* the header is ts,symbol,open,...,volume or
                                      ts,symbol,price,qty[,bid,ask], in order */
    hh_time_t last_ts;             /* last accepted row, HH_TIME_NONE before */
    uint64_t fast_rows;            /* rows the fast road accepted (tests) */
    const char *win;               /* fast road: the line reader's buffered bytes
                                      not yet taken (valid while win_n > 0) ... */
    size_t win_n;                  /* ... how many ... */
    size_t pend_bytes;             /* ... and what it took from them but has not
                                      yet handed back to the line reader */
    uint64_t pend_lines;
    struct hh_md_stats st;
    uint64_t warned;               /* skipped rows reported so far */
    struct hh_md_datecache dc;
    struct hh_md__ts tc;           /* the fast road's timestamp cache */
    struct hh_md__sym sc[HH_MD__SYM_SLOTS];
    char scratch[HH_MD_MAX_LINE];  /* unescaped quoted fields of the current row */
    bool quoted;                   /* the current row had quotes: fields in qf */
    struct hh_field qf[HH_MD__COLS]; /* named fields of a quoted row */
    int32_t cut[HH_MD_MAX_LINE + 2]; /* -1, comma positions, length (current row) */
};

/* The first sixteen bytes of the symbol s[0..n), zero-filled past n. */
HOT void hh_md__sym_words(const char *s, size_t n, uint64_t *w0, uint64_t *w1)
{
    uint64_t b[2] = { 0, 0 };

    memcpy(b, s, n < 16 ? n : 16);
    *w0 = b[0];
    *w1 = b[1];
}

/* The same from a symbol followed by at least 16 readable bytes (a line of
 * the line reader): two loads and two masks from a table by length, no
 * branch (the symbols of tick data come in an order no predictor learns: a
 * branch on their length cost about 6 ns a tick). */
HOT void hh_md__sym_words_padded(const char *s, size_t n, uint64_t *w0, uint64_t *w1)
{
#define M(b) (~0ull >> (64 - 8 * (b)))
    static const uint64_t mask[17][2] = {
        { 0, 0 },       { M(1), 0 },    { M(2), 0 },    { M(3), 0 },    { M(4), 0 },
        { M(5), 0 },    { M(6), 0 },    { M(7), 0 },    { M(8), 0 },    { M(8), M(1) },
        { M(8), M(2) }, { M(8), M(3) }, { M(8), M(4) }, { M(8), M(5) }, { M(8), M(6) },
        { M(8), M(7) }, { M(8), M(8) },
    };
#undef M
    const uint64_t *m = mask[n < 16 ? n : 16];

    memcpy(w0, s, 8);
    memcpy(w1, s + 8, 8);
    *w0 &= m[0];
    *w1 &= m[1];
}

/* The first of the two slots a symbol may occupy (the other is h ^ 1). */
HOT size_t hh_md__sym_slot(uint64_t w0, uint64_t w1, size_t n)
{
    return (size_t)(((w0 ^ (w1 * 31) ^ n) * 0x9E3779B97F4A7C15ull) >> (64 - HH_MD__SYM_BITS));
}

/* Does cache entry e hold the symbol s[0..n) with words w0/w1? */
HOT bool hh_md__sym_hit(const struct hh_md__sym *e, const char *s, size_t n, uint64_t w0,
                        uint64_t w1)
{
    return e->len == n && e->w0 == w0 && e->w1 == w1 &&
           (n <= 16 || memcmp(e->sym + 16, s + 16, n - 16) == 0);
}

/* The cached id of symbol s[0..n) (n >= 1, words w0/w1); false when not
 * cached. */
HOT bool hh_md__sym_find(const struct hh_md_reader *r, const char *s, size_t n, uint64_t w0,
                         uint64_t w1, hh_iid_t *iid)
{
    const struct hh_md__sym *e;
    size_t h = hh_md__sym_slot(w0, w1, n);

    e = &r->sc[h];
    if (hh_md__sym_hit(e, s, n, w0, w1) || hh_md__sym_hit(e = &r->sc[h ^ 1], s, n, w0, w1)) {
        *iid = e->iid;
        return true;
    }
    return false;
}

/*
 * The fast road for the next rows, read straight from the line reader's
 * buffer (no call of hh_lines_next): up to n rows into out[], as long as
 * the fast road accepts them; returns how many.  Each accepted row is
 * consumed from the buffer, counted in rows and accepted, last_ts
 * advanced; the first row it declines is left, with nothing but the caches
 * changed, for the generic road (also when too few bytes are buffered).
 */
int hh_md__fast_bars(struct hh_md_reader *r, struct hh_bar *out, int n);
int hh_md__fast_ticks(struct hh_md_reader *r, struct hh_tick *out, int n);

/* Before the generic road reads a line: hand the rows the fast road took
 * back to the line reader and drop its window (the next line read may
 * move the buffer). */
void hh_md__sync(struct hh_md_reader *r);

/* Tests and fuzzing: every row takes the generic road (on) or rows of the
 * canonical layout try the fast road first (off, the default); and how
 * many rows the fast road accepted so far. */
void hh_md__generic_only(struct hh_md_reader *r, bool on);
uint64_t hh_md__fast_rows(const struct hh_md_reader *r);

#endif
