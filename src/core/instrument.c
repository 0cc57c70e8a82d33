/*
 * instrument.c — the instrument table: symbol -> dense id, and the loaders.
 *
 * Storage.  Instruments live in fixed-size chunks of CHUNK entries that are
 * never moved or freed before the table is, so a pointer from hh_inst_get()
 * stays valid as the table grows (its contents change only when a bare,
 * interned entry is completed by hh_inst_add()).  Id i is entry i % CHUNK
 * of chunk i / CHUNK.
 *
 * Index.  One open-addressing hash table (linear probing, power-of-two
 * size, load <= 1/2) holds two kinds of key per instrument:
 *   bare       "SYMBOL"       -> the preferred row of that symbol
 *   qualified  "EXCH:SYMBOL"  -> the row of that exchange
 * A slot stores only the 32-bit hash and the id (low bit: qualified); the
 * key text is the instrument's own symbol (and exch), so no key is copied
 * and a lookup allocates nothing and reads the key bytes once to hash them.
 * Qualified keys hash the symbol with the exchange as seed, so "NFO:X" and
 * "NSE:X" find the same row.
 *
 * Invariants: every instrument has exactly one qualified key; a bare key
 * exists for every symbol and points at an instrument of that symbol; an
 * instrument's (exch, symbol) pair is unique.
 */
#include "core/instrument_int.h"

#include "core/csv.h"
#include "core/grow.h"
#include "core/lines.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define CHUNK_SHIFT 10
#define CHUNK       (1u << CHUNK_SHIFT)
#define SLOT_EMPTY  UINT32_MAX
#define MAX_IDS     (1u << 30)     /* ids fit 31 bits with room to spare */

/* Default tick of interned entries: 0.05 rupee. */
#define BARE_TICK   (5 * HH_PAISA)

struct slot {
    uint32_t hash;   /* hash of the key */
    uint32_t ref;    /* id << 1 | qualified; SLOT_EMPTY when free */
};

struct hh_instruments {
    struct hh_instrument **chunks;   /* chunk pointers; chunks never move */
    size_t nchunks, chunks_cap;
    size_t count;                    /* ids 0 .. count-1 are in use */
    struct slot *slots;              /* hash index, mask + 1 slots */
    size_t mask;
    size_t used;                     /* occupied slots */
};

/* ---- hashing and the index -------------------------------------------- */

static uint32_t hash_key(const char *p, size_t n, uint64_t seed)
{
    uint64_t h = (seed + 1) * 0x9E3779B97F4A7C15ull ^ (uint64_t)n;

    while (n >= 8) {
        uint64_t w;

        memcpy(&w, p, 8);
        h = (h ^ w) * 0xBF58476D1CE4E5B9ull;
        h ^= h >> 31;
        p += 8;
        n -= 8;
    }
    if (n) {
        uint64_t w = 0;

        memcpy(&w, p, n);
        h = (h ^ w) * 0x94D049BB133111EBull;
        h ^= h >> 29;
    }
    h *= 0xD6E8FEB86659FD93ull;
    h ^= h >> 32;
    return (uint32_t)h;
}

/* Seeds: 0 for bare keys, 1 + exch for qualified ones. */
#define SEED_BARE 0u
#define SEED_EXCH(e) (1u + (unsigned)(e))

static inline struct hh_instrument *entry(const struct hh_instruments *t, uint32_t id)
{
    return &t->chunks[id >> CHUNK_SHIFT][id & (CHUNK - 1)];
}

static inline bool symbol_eq(const struct hh_instrument *in, const char *s, size_t n)
{
    return n < HH_SYMBOL_MAX && in->symbol[n] == '\0' && memcmp(in->symbol, s, n) == 0;
}

/*
 * Slot index of a key, or of the free slot where it would go.  exch is
 * HH_EXCH_COUNT for a bare key.
 */
static size_t probe(const struct hh_instruments *t, enum hh_exch exch, const char *s,
                    size_t n, uint32_t h)
{
    uint32_t want_q = exch != HH_EXCH_COUNT;
    size_t i = h & t->mask;

    for (;; i = (i + 1) & t->mask) {
        const struct slot *sl = &t->slots[i];
        const struct hh_instrument *in;

        if (sl->ref == SLOT_EMPTY)
            return i;
        if (sl->hash != h || (sl->ref & 1u) != want_q)
            continue;
        in = entry(t, sl->ref >> 1);
        if ((!want_q || in->exch == exch) && symbol_eq(in, s, n))
            return i;
    }
}

static uint32_t key_hash(enum hh_exch exch, const char *s, size_t n)
{
    return hash_key(s, n, exch == HH_EXCH_COUNT ? SEED_BARE : SEED_EXCH(exch));
}

/* Id under a key, or HH_IID_NONE; *slot_out (optional) gets the slot. */
static hh_iid_t lookup(const struct hh_instruments *t, enum hh_exch exch, const char *s,
                       size_t n, size_t *slot_out)
{
    size_t i;

    if (t->count == 0)
        return HH_IID_NONE;
    i = probe(t, exch, s, n, key_hash(exch, s, n));
    if (slot_out)
        *slot_out = i;
    return t->slots[i].ref == SLOT_EMPTY ? HH_IID_NONE : t->slots[i].ref >> 1;
}

/* Make room for `more` keys (rehashing to a larger table as needed). */
static int reserve_keys(struct hh_instruments *t, size_t more)
{
    size_t cap = t->slots ? t->mask + 1 : 0, ncap = cap ? cap : 256;
    struct slot *ns;

    while ((t->used + more) * 2 > ncap)
        ncap *= 2;
    if (ncap == cap)
        return HH_OK;
    ns = malloc(ncap * sizeof *ns);
    if (!ns)
        return HH_ENOMEM;
    for (size_t i = 0; i < ncap; i++)
        ns[i].ref = SLOT_EMPTY;
    for (size_t i = 0; i < cap; i++) {
        size_t j;

        if (t->slots[i].ref == SLOT_EMPTY)
            continue;
        for (j = t->slots[i].hash & (ncap - 1); ns[j].ref != SLOT_EMPTY;
             j = (j + 1) & (ncap - 1))
            ;
        ns[j] = t->slots[i];
    }
    free(t->slots);
    t->slots = ns;
    t->mask = ncap - 1;
    return HH_OK;
}

/* Insert a key known to be absent (room reserved by the caller). */
static void key_insert(struct hh_instruments *t, enum hh_exch exch, const char *s,
                       size_t n, uint32_t id)
{
    uint32_t h = key_hash(exch, s, n);
    size_t i = probe(t, exch, s, n, h);

    HH_ASSERT(t->slots[i].ref == SLOT_EMPTY);
    t->slots[i].hash = h;
    t->slots[i].ref = id << 1 | (exch != HH_EXCH_COUNT);
    t->used++;
}

/* Remove the key in slot i (backward-shift deletion keeps probes intact). */
static void key_remove(struct hh_instruments *t, size_t i)
{
    size_t j = i;

    for (;;) {
        t->slots[i].ref = SLOT_EMPTY;
        for (;;) {
            size_t home;

            j = (j + 1) & t->mask;
            if (t->slots[j].ref == SLOT_EMPTY) {
                t->used--;
                return;
            }
            home = t->slots[j].hash & t->mask;
            /* Slot j may stay unless its home lies cyclically in (i, j]. */
            if (i <= j ? (i < home && home <= j) : (i < home || home <= j))
                continue;
            break;
        }
        t->slots[i] = t->slots[j];
        i = j;
    }
}

/* ---- the table --------------------------------------------------------- */

struct hh_instruments *hh_inst_new(void)
{
    struct hh_instruments *t = calloc(1, sizeof *t);

    if (!t)
        return NULL;
    if (reserve_keys(t, 1) != HH_OK) {
        free(t);
        return NULL;
    }
    return t;
}

void hh_inst_free(struct hh_instruments *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->nchunks; i++)
        free(t->chunks[i]);
    free(t->chunks);
    free(t->slots);
    free(t);
}

size_t hh_inst_count(const struct hh_instruments *t)
{
    return t ? t->count : 0;
}

const struct hh_instrument *hh_inst_get(const struct hh_instruments *t, hh_iid_t id)
{
    if (!t || id >= t->count)
        return NULL;
    return entry(t, id);
}

/* A new zeroed entry at id t->count (not yet counted); NULL when out of
 * memory or ids. */
static struct hh_instrument *entry_alloc(struct hh_instruments *t)
{
    size_t c = t->count >> CHUNK_SHIFT;

    if (t->count >= MAX_IDS)
        return NULL;
    if (c == t->nchunks) {
        if (t->nchunks == t->chunks_cap) {
            size_t ncap = t->chunks_cap ? t->chunks_cap * 2 : 8;
            struct hh_instrument **nc = realloc(t->chunks, ncap * sizeof *nc);

            if (!nc)
                return NULL;
            t->chunks = nc;
            t->chunks_cap = ncap;
        }
        t->chunks[c] = calloc(CHUNK, sizeof(struct hh_instrument));
        if (!t->chunks[c])
            return NULL;
        t->nchunks++;
    }
    return entry(t, (uint32_t)t->count);
}

static size_t bounded_len(const char *s, size_t max)
{
    const char *z = memchr(s, '\0', max);

    return z ? (size_t)(z - s) : max;
}

/* The facts hh_inst_add() insists on (the loaders check them first, with
 * messages). */
static bool inst_valid(const struct hh_instrument *in)
{
    size_t n = bounded_len(in->symbol, HH_SYMBOL_MAX);

    enum hh_exch e;

    if (n == 0 || n == HH_SYMBOL_MAX ||
        bounded_len(in->underlying, HH_UNDERLYING_MAX) == HH_UNDERLYING_MAX)
        return false;
    if (n > 4 && in->symbol[3] == ':' && hh_exch_parse(in->symbol, 3, &e))
        return false;           /* would shadow the qualified key */
    if ((int)in->exch < 0 || in->exch >= HH_EXCH_COUNT || (int)in->seg < 0 ||
        in->seg >= HH_SEG_COUNT)
        return false;
    switch (in->type) {
    case HH_INST_OPT:
        if ((in->opt != HH_OPT_CE && in->opt != HH_OPT_PE) || in->strike <= 0 ||
            in->expiry == HH_DATE_NONE)
            return false;
        break;
    case HH_INST_FUT:
        if (in->opt != HH_OPT_NONE || in->strike != 0 || in->expiry == HH_DATE_NONE)
            return false;
        break;
    case HH_INST_EQ:
    case HH_INST_INDEX:
        if (in->opt != HH_OPT_NONE || in->strike != 0)
            return false;
        break;
    default:
        return false;
    }
    return in->lot_size >= 1 && in->tick > 0 && in->freeze_qty >= 0;
}

/*
 * Add `in` (known or bare) following the duplicate rules; see the header.
 * Returns HH_OK, HH_EEXIST (*out = the row already there), HH_ENOMEM.
 */
static int add_impl(struct hh_instruments *t, const struct hh_instrument *in, bool known,
                    hh_iid_t *out)
{
    const char *s = in->symbol;
    size_t n = strlen(s), bslot = 0, qslot;
    hh_iid_t q, b;
    struct hh_instrument *p;
    int rc;

    rc = reserve_keys(t, 2);
    if (rc)
        return rc;

    q = lookup(t, in->exch, s, n, NULL);
    if (q != HH_IID_NONE) {
        p = entry(t, q);
        *out = q;
        if (p->known && known) {
            /* the dump's token for our CSV's row, our freeze_qty for the dump's */
            if (!p->token)
                p->token = in->token;
            if (!p->freeze_qty)
                p->freeze_qty = in->freeze_qty;
        }
        if (p->known || !known)
            return HH_EEXIST;
        *p = *in;               /* complete a bare entry, same exchange */
        p->known = true;
        return HH_OK;
    }

    b = lookup(t, HH_EXCH_COUNT, s, n, &bslot);
    if (b != HH_IID_NONE && known && !entry(t, b)->known) {
        /* Complete a bare entry interned under another exchange: re-key. */
        p = entry(t, b);
        lookup(t, p->exch, s, n, &qslot);
        key_remove(t, qslot);
        *p = *in;
        p->known = true;
        key_insert(t, p->exch, s, n, b);
        *out = b;
        return HH_OK;
    }

    p = entry_alloc(t);
    if (!p)
        return HH_ENOMEM;
    *p = *in;
    p->known = known;
    *out = (hh_iid_t)t->count++;
    key_insert(t, in->exch, s, n, *out);
    if (b == HH_IID_NONE) {
        key_insert(t, HH_EXCH_COUNT, s, n, *out);
    } else if (known && in->exch == HH_EXCH_NSE && entry(t, b)->exch == HH_EXCH_BSE) {
        /* An NSE row takes the bare name from a BSE row.  The bare key's
         * slot did not move: key_insert never moves other keys. */
        t->slots[bslot].ref = *out << 1;
    }
    return HH_OK;
}

int hh_inst_add(struct hh_instruments *t, const struct hh_instrument *in, hh_iid_t *out)
{
    hh_iid_t id;
    int rc;

    if (!t || !in || !inst_valid(in))
        return HH_EINVAL;
    rc = add_impl(t, in, true, &id);
    if (out && (rc == HH_OK || rc == HH_EEXIST))
        *out = id;
    return rc;
}

/* "EXCH:" prefix of a qualified key: true with *e and the rest. */
static inline bool split_qualified(const char *s, size_t n, enum hh_exch *e,
                                   const char **rest, size_t *rn)
{
    if (n > 4 && s[3] == ':' && hh_exch_parse(s, 3, e)) {
        *rest = s + 4;
        *rn = n - 4;
        return true;
    }
    return false;
}

hh_iid_t hh_inst_find(const struct hh_instruments *t, const char *sym, size_t len)
{
    enum hh_exch e;
    const char *rest;
    size_t rn;

    if (!t || !sym)
        return HH_IID_NONE;
    if (split_qualified(sym, len, &e, &rest, &rn))
        return lookup(t, e, rest, rn, NULL);
    return lookup(t, HH_EXCH_COUNT, sym, len, NULL);
}

int hh_inst_intern(struct hh_instruments *t, const char *sym, size_t len, hh_iid_t *out)
{
    struct hh_instrument in;
    enum hh_exch e = HH_EXCH_NSE;
    const char *s = sym;
    size_t n = len;
    hh_iid_t id;
    int rc;

    if (!t || !sym || !out)
        return HH_EINVAL;
    id = hh_inst_find(t, sym, len);
    if (id != HH_IID_NONE) {
        *out = id;
        return HH_OK;
    }
    split_qualified(sym, len, &e, &s, &n);
    if (n == 0 || n >= HH_SYMBOL_MAX)
        return HH_EINVAL;
    if (n >= 4 && s[3] == ':' && hh_exch_parse(s, 3, &e))
        return HH_EINVAL;       /* "NSE:" alone, or "NSE:BSE:X" */
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
            return HH_EINVAL;
    memset(&in, 0, sizeof in);
    memcpy(in.symbol, s, n);
    if (n < HH_UNDERLYING_MAX)
        memcpy(in.underlying, s, n);
    in.exch = e;
    in.seg = HH_SEG_CASH;
    in.type = HH_INST_EQ;
    in.opt = HH_OPT_NONE;
    in.expiry = HH_DATE_NONE;
    in.strike = 0;
    in.lot_size = 1;
    in.tick = BARE_TICK;
    in.freeze_qty = 0;
    rc = add_impl(t, &in, false, &id);
    if (rc == HH_OK || rc == HH_EEXIST) {
        *out = id;
        return HH_OK;
    }
    return rc;
}

bool hh_inst_is_option(const struct hh_instrument *in)
{
    return in && in->type == HH_INST_OPT && in->opt != HH_OPT_NONE;
}

bool hh_inst_is_itm(const struct hh_instrument *in, hh_price_t spot)
{
    if (!hh_inst_is_option(in))
        return false;
    return in->opt == HH_OPT_CE ? spot > in->strike : spot < in->strike;
}

hh_price_t hh_inst_intrinsic(const struct hh_instrument *in, hh_price_t spot)
{
    __int128 v;

    if (!hh_inst_is_itm(in, spot))
        return 0;
    v = in->opt == HH_OPT_CE ? (__int128)spot - in->strike : (__int128)in->strike - spot;
    return v > INT64_MAX ? INT64_MAX : (hh_price_t)v;
}

/* ---- loaders ------------------------------------------------------------ */

enum { FMT_OURS, FMT_KITE };

/* Columns, by format.  Index into col[]. */
enum {
    C_SYMBOL, C_EXCHANGE, C_TYPE, C_UNDERLYING, C_EXPIRY, C_STRIKE, C_OPT,
    C_LOT, C_TICK, C_FREEZE, C_SEGMENT, C_NAME, C_TOKEN, C_COUNT
};

static const char *const ours_names[C_COUNT] = {
    "symbol", "exchange", "type", "underlying", "expiry", "strike", "option_type",
    "lot_size", "tick_size", "freeze_qty", "segment", NULL, NULL,
};
static const char *const kite_names[C_COUNT] = {
    "tradingsymbol", "exchange", "instrument_type", NULL, "expiry", "strike", NULL,
    "lot_size", "tick_size", NULL, "segment", "name", "instrument_token",
};

struct loader {
    const char *path;
    const struct hh_calendar *cal;
    struct hh_diag *d;
    int fmt;
    int col[C_COUNT];        /* column of each field, -1 when absent */
    int ncol_min;            /* fields a row needs */
    unsigned long long line; /* current line number */
    struct hh_field f[64];
    int nf;
};

static struct hh_field fld(const struct loader *L, int c)
{
    struct hh_field none = { "", 0 };

    if (L->col[c] < 0 || L->col[c] >= L->nf || L->col[c] >= 64)
        return none;
    return hh_field_trim(L->f[L->col[c]]);
}

static const char *col_name(const struct loader *L, int c)
{
    return L->fmt == FMT_KITE ? kite_names[c] : ours_names[c];
}

/* Error naming file:line, the field and its text. */
static int bad(const struct loader *L, int c, const char *why)
{
    struct hh_field v = fld(L, c);

    return hh_diag_set(L->d, HH_ESYNTAX, "%s:%llu: %s: %s (got '%.*s')", L->path,
                       L->line, col_name(L, c), why, (int)(v.n > 60 ? 60 : v.n), v.p);
}

static bool field_is(struct hh_field f, const char *s)
{
    return f.n == strlen(s) && strncasecmp(f.p, s, f.n) == 0;
}

static bool parse_seg(struct hh_field f, enum hh_segment *out)
{
    static const char *const names[HH_SEG_COUNT] = {
        "cash", "fut", "opt", "currency", "commodity", "agri",
    };

    for (int i = 0; i < HH_SEG_COUNT; i++) {
        if (field_is(f, names[i])) {
            *out = (enum hh_segment)i;
            return true;
        }
    }
    return false;
}

/* Copy a field into a fixed buffer; false when it does not fit. */
static bool copy_field(char *dst, size_t cap, struct hh_field f)
{
    if (f.n >= cap)
        return false;
    memcpy(dst, f.p, f.n);
    dst[f.n] = '\0';
    return true;
}

static int parse_decimal_field(struct loader *L, int c, hh_price_t *out)
{
    struct hh_field v = fld(L, c);
    int rc = hh_price_parse(v.p, v.n, 0, out);

    if (rc == HH_EPREC)
        return bad(L, c, "more than 4 decimal places");
    if (rc)
        return bad(L, c, "not a decimal number");
    return HH_OK;
}

static int parse_qty_field(struct loader *L, int c, hh_qty_t *out)
{
    struct hh_field v = fld(L, c);

    if (hh_qty_parse(v.p, v.n, out) != HH_OK)
        return bad(L, c, "not a whole number");
    return HH_OK;
}

/*
 * Underlying and expiry of a derivative row from its symbol, when the file
 * does not give them.  `hint` is a known underlying (may be empty): if the
 * symbol starts with it, only that split is accepted.
 */
static int derive_from_symbol(struct loader *L, struct hh_instrument *in,
                              struct hh_field hint, bool need_underlying,
                              bool need_expiry)
{
    struct hh_sym sy;
    size_t n = strlen(in->symbol);
    int rc = HH_ESYNTAX;

    if (hint.n && hint.n < n && memcmp(in->symbol, hint.p, hint.n) == 0)
        rc = hh_sym__parse_known(in->symbol, n, hint.n, &sy);
    if (rc)
        rc = hh_sym_parse(in->symbol, n, &sy);
    if (rc || sy.type != in->type) {
        if (need_underlying && hint.n && copy_field(in->underlying, HH_UNDERLYING_MAX, hint))
            need_underlying = false;
        if (need_underlying)
            return bad(L, C_SYMBOL, "cannot tell the underlying from this symbol");
        if (need_expiry)
            return bad(L, C_EXPIRY, "empty, and the symbol does not name an expiry");
        return HH_OK;
    }
    if (need_underlying)
        strcpy(in->underlying, sy.underlying);
    if (need_expiry) {
        if (sy.day)
            in->expiry = hh_date_from_ymd(sy.year, sy.month, sy.day);
        else
            in->expiry = hh_cal_monthly_expiry(L->cal, in->exch, sy.year, sy.month);
        if (in->expiry == HH_DATE_NONE)
            return bad(L, C_EXPIRY, "empty, and no rule gives this contract's expiry");
    }
    return HH_OK;
}

/* Symbol column: printable, fits, not shaped like a qualified key. */
static int check_symbol(struct loader *L, struct hh_instrument *in)
{
    struct hh_field v = fld(L, C_SYMBOL);
    enum hh_exch e;

    if (v.n == 0)
        return bad(L, C_SYMBOL, "empty");
    if (!copy_field(in->symbol, HH_SYMBOL_MAX, v))
        return bad(L, C_SYMBOL, "longer than 47 bytes");
    for (size_t i = 0; i < v.n; i++)
        if ((unsigned char)v.p[i] < 0x20 || (unsigned char)v.p[i] > 0x7e)
            return bad(L, C_SYMBOL, "control or non-ASCII character");
    if (v.n > 4 && v.p[3] == ':' && hh_exch_parse(v.p, 3, &e))
        return bad(L, C_SYMBOL, "must not carry an exchange prefix");
    return HH_OK;
}

/* Exchange column -> exch, and the segment it implies (HH_SEG_COUNT when
 * the type decides). */
static int check_exchange(struct loader *L, struct hh_instrument *in, enum hh_segment *seg)
{
    struct hh_field v = fld(L, C_EXCHANGE);

    if (!hh_exch_parse(v.p, v.n, &in->exch))
        return bad(L, C_EXCHANGE, "not NSE, BSE, NFO, BFO, CDS, BCD, NCO or MCX");
    if (field_is(v, "CDS") || field_is(v, "BCD"))
        *seg = HH_SEG_CURRENCY;
    else if (field_is(v, "MCX") || field_is(v, "NCO"))
        *seg = HH_SEG_COMMODITY;
    else
        *seg = HH_SEG_COUNT;
    return HH_OK;
}

/* Lot, tick, strike and the common derivative checks. */
static int check_numbers(struct loader *L, struct hh_instrument *in)
{
    struct hh_field v;
    int rc;

    if ((rc = parse_qty_field(L, C_LOT, &in->lot_size)))
        return rc;
    if ((rc = parse_decimal_field(L, C_TICK, &in->tick)))
        return rc;
    /* Zerodha's dump gives indices lot 0 and sometimes tick 0: an index is
     * never traded, so they read as lot 1 and the interned default tick. */
    if (L->fmt == FMT_KITE && in->type == HH_INST_INDEX) {
        if (in->lot_size == 0)
            in->lot_size = 1;
        if (in->tick == 0)
            in->tick = BARE_TICK;
    }
    if (in->lot_size < 1)
        return bad(L, C_LOT, "must be at least 1");
    if (in->tick <= 0)
        return bad(L, C_TICK, "must be greater than 0");
    v = fld(L, C_STRIKE);
    in->strike = 0;
    if (v.n && (rc = parse_decimal_field(L, C_STRIKE, &in->strike)))
        return rc;
    if (in->strike < 0)
        return bad(L, C_STRIKE, "must not be negative");
    if (in->type == HH_INST_OPT && in->strike == 0)
        return bad(L, C_STRIKE, "an option needs a strike greater than 0");
    if (in->type != HH_INST_OPT && in->strike != 0)
        return bad(L, C_STRIKE, "only options have a strike");
    v = fld(L, C_FREEZE);
    in->freeze_qty = 0;
    if (v.n && (rc = parse_qty_field(L, C_FREEZE, &in->freeze_qty)))
        return rc;
    if (in->freeze_qty < 0)
        return bad(L, C_FREEZE, "must not be negative");
    return HH_OK;
}

static int check_expiry(struct loader *L, struct hh_instrument *in)
{
    struct hh_field v = fld(L, C_EXPIRY);

    in->expiry = HH_DATE_NONE;
    if (v.n == 0)
        return HH_OK;
    if (in->type == HH_INST_EQ || in->type == HH_INST_INDEX)
        return bad(L, C_EXPIRY, "only futures and options expire");
    if (hh_date_parse(v.p, v.n, &in->expiry) != HH_OK)
        return bad(L, C_EXPIRY, "not a date (YYYY-MM-DD)");
    return HH_OK;
}

/* instrument_token: empty or 1..UINT32_MAX (the tick stream's 4-byte token). */
static int check_token(struct loader *L, struct hh_instrument *in)
{
    struct hh_field v = fld(L, C_TOKEN);
    hh_qty_t t;

    in->token = 0;
    if (v.n == 0)
        return HH_OK;
    if (hh_qty_parse(v.p, v.n, &t) != HH_OK || t < 1 || t > UINT32_MAX)
        return bad(L, C_TOKEN, "not a whole number from 1 to 4294967295");
    in->token = (uint32_t)t;
    return HH_OK;
}

static int row_ours(struct loader *L, struct hh_instrument *in)
{
    struct hh_field v;
    enum hh_segment exseg;
    int rc;

    if ((rc = check_symbol(L, in)) || (rc = check_exchange(L, in, &exseg)))
        return rc;
    v = fld(L, C_TYPE);
    if (field_is(v, "EQ"))
        in->type = HH_INST_EQ;
    else if (field_is(v, "FUT"))
        in->type = HH_INST_FUT;
    else if (field_is(v, "OPT"))
        in->type = HH_INST_OPT;
    else if (field_is(v, "INDEX"))
        in->type = HH_INST_INDEX;
    else
        return bad(L, C_TYPE, "not EQ, FUT, OPT or INDEX");
    v = fld(L, C_OPT);
    if (field_is(v, "CE"))
        in->opt = HH_OPT_CE;
    else if (field_is(v, "PE"))
        in->opt = HH_OPT_PE;
    else if (v.n == 0)
        in->opt = HH_OPT_NONE;
    else
        return bad(L, C_OPT, "not CE, PE or empty");
    if (in->type == HH_INST_OPT && in->opt == HH_OPT_NONE)
        return bad(L, C_OPT, "an option needs CE or PE");
    if (in->type != HH_INST_OPT && in->opt != HH_OPT_NONE)
        return bad(L, C_OPT, "only options have an option type");
    if ((rc = check_numbers(L, in)) || (rc = check_expiry(L, in)))
        return rc;

    if (exseg != HH_SEG_COUNT)
        in->seg = exseg;
    else
        in->seg = in->type == HH_INST_FUT ? HH_SEG_FUT
                : in->type == HH_INST_OPT ? HH_SEG_OPT : HH_SEG_CASH;
    v = fld(L, C_SEGMENT);
    if (v.n && !parse_seg(v, &in->seg))
        return bad(L, C_SEGMENT, "not cash, fut, opt, currency, commodity or agri");

    v = fld(L, C_UNDERLYING);
    if (v.n && !copy_field(in->underlying, HH_UNDERLYING_MAX, v))
        return bad(L, C_UNDERLYING, "longer than 31 bytes");
    if (in->type == HH_INST_EQ || in->type == HH_INST_INDEX) {
        if (!v.n)
            copy_field(in->underlying, HH_UNDERLYING_MAX, fld(L, C_SYMBOL));
        return HH_OK;
    }
    if (!v.n || in->expiry == HH_DATE_NONE)
        return derive_from_symbol(L, in, v, !v.n, in->expiry == HH_DATE_NONE);
    return HH_OK;
}

static int row_kite(struct loader *L, struct hh_instrument *in)
{
    struct hh_field v, name;
    enum hh_segment exseg;
    int rc;

    if ((rc = check_symbol(L, in)) || (rc = check_exchange(L, in, &exseg)))
        return rc;
    v = fld(L, C_TYPE);
    in->opt = HH_OPT_NONE;
    if (field_is(v, "EQ"))
        in->type = field_is(fld(L, C_SEGMENT), "INDICES") ? HH_INST_INDEX : HH_INST_EQ;
    else if (field_is(v, "FUT"))
        in->type = HH_INST_FUT;
    else if (field_is(v, "CE"))
        in->type = HH_INST_OPT, in->opt = HH_OPT_CE;
    else if (field_is(v, "PE"))
        in->type = HH_INST_OPT, in->opt = HH_OPT_PE;
    else
        return bad(L, C_TYPE, "not EQ, FUT, CE or PE");
    if ((rc = check_numbers(L, in)) || (rc = check_expiry(L, in)) ||
        (rc = check_token(L, in)))
        return rc;
    if (exseg != HH_SEG_COUNT)
        in->seg = exseg;
    else
        in->seg = in->type == HH_INST_FUT ? HH_SEG_FUT
                : in->type == HH_INST_OPT ? HH_SEG_OPT : HH_SEG_CASH;

    if (in->type == HH_INST_EQ || in->type == HH_INST_INDEX) {
        /* `name` is the company's name here, not an underlying. */
        copy_field(in->underlying, HH_UNDERLYING_MAX, fld(L, C_SYMBOL));
        return HH_OK;
    }
    name = fld(L, C_NAME);
    if (name.n >= HH_UNDERLYING_MAX)
        name.n = 0;
    return derive_from_symbol(L, in, name, true, in->expiry == HH_DATE_NONE);
}

static int load_header(struct loader *L, const char *line, size_t len)
{
    static const char *const ours_req[] = { "symbol", "exchange", "type", "lot_size",
                                            "tick_size" };
    int nf, maxc = -1;

    L->fmt = FMT_OURS;
    nf = hh_csv_header(line, len, ours_names, C_NAME, L->col);
    L->col[C_NAME] = L->col[C_TOKEN] = -1;
    if (nf >= 0 && L->col[C_SYMBOL] < 0) {
        int tmp[C_COUNT];

        /* kite_names has NULL holes; map name by name. */
        for (int c = 0; c < C_COUNT; c++) {
            tmp[c] = -1;
            if (kite_names[c])
                hh_csv_header(line, len, &kite_names[c], 1, &tmp[c]);
        }
        memcpy(L->col, tmp, sizeof tmp);
        L->fmt = FMT_KITE;
    }
    if (nf < 0)
        return hh_diag_set(L->d, HH_EHEADER, "%s:%llu: unreadable header", L->path, L->line);
    for (int c = 0; c < C_COUNT; c++) {
        bool required = L->fmt == FMT_KITE
                      ? (c == C_SYMBOL || c == C_EXCHANGE || c == C_TYPE || c == C_EXPIRY ||
                         c == C_STRIKE || c == C_LOT || c == C_TICK)
                      : (c == C_SYMBOL || c == C_EXCHANGE || c == C_TYPE || c == C_LOT ||
                         c == C_TICK);

        if (required && L->col[c] < 0) {
            if (L->fmt == FMT_KITE && L->col[C_SYMBOL] < 0)
                return hh_diag_set(L->d, HH_EHEADER,
                                   "%s:%llu: not an instrument file: the header names "
                                   "neither %s,%s,%s,... nor Zerodha's tradingsymbol,...",
                                   L->path, L->line, ours_req[0], ours_req[1], ours_req[2]);
            return hh_diag_set(L->d, HH_EHEADER, "%s:%llu: header lacks column '%s'",
                               L->path, L->line, col_name(L, c));
        }
        if (L->col[c] > maxc)
            maxc = L->col[c];
    }
    if (maxc >= 64)
        return hh_diag_set(L->d, HH_EHEADER, "%s:%llu: too many columns", L->path, L->line);
    L->ncol_min = maxc + 1;
    return HH_OK;
}

/* Blank lines and lines starting with '#' carry no row. */
static bool is_blank_or_comment(const char *line, size_t len)
{
    size_t i = 0;

    while (i < len && (line[i] == ' ' || line[i] == '\t'))
        i++;
    return i == len || line[i] == '#';
}

int hh_inst_load(struct hh_instruments *t, const char *path,
                 const struct hh_calendar *cal, struct hh_diag *d)
{
    struct loader L;
    struct hh_lines *lr = NULL;
    struct hh_instrument *rows = NULL;
    size_t nrows = 0, cap = 0, scratch_cap = 0;
    char *scratch = NULL;
    const char *line;
    size_t len;
    bool header = false;
    int rc;

    if (!t || !path)
        return hh_diag_set(d, HH_EINVAL, "hh_inst_load: no table or path");
    memset(&L, 0, sizeof L);
    L.path = path;
    L.cal = cal;
    L.d = d;
    rc = hh_lines_open(&lr, path, 0, d);
    if (rc)
        return rc;
    while ((rc = hh_lines_next(lr, &line, &len)) == 1) {
        struct hh_instrument in;

        L.line = (unsigned long long)hh_lines_lineno(lr);
        if (is_blank_or_comment(line, len))
            continue;
        if (!header) {
            if ((rc = load_header(&L, line, len)))
                goto out;
            header = true;
            continue;
        }
        if (hh_grow(&scratch, &scratch_cap, len, 1)) {
            rc = hh_diag_set(d, HH_ENOMEM, "%s:%llu: out of memory", path, L.line);
            goto out;
        }
        L.nf = hh_csv_split(line, len, L.f, 64, scratch);
        if (L.nf < 0) {
            rc = hh_diag_set(d, HH_ESYNTAX, "%s:%llu: unterminated quote", path, L.line);
            goto out;
        }
        if (L.nf < L.ncol_min) {
            rc = hh_diag_set(d, HH_ESYNTAX, "%s:%llu: %d fields, expected at least %d",
                             path, L.line, L.nf, L.ncol_min);
            goto out;
        }
        memset(&in, 0, sizeof in);
        rc = L.fmt == FMT_KITE ? row_kite(&L, &in) : row_ours(&L, &in);
        if (rc)
            goto out;
        in.known = true;
        HH_ASSERT(inst_valid(&in));
        if (hh_grow(&rows, &cap, nrows + 1, sizeof *rows)) {
            rc = hh_diag_set(d, HH_ENOMEM, "%s:%llu: out of memory", path, L.line);
            goto out;
        }
        rows[nrows++] = in;
    }
    if ((rc = hh_lines_end(lr, rc, path, d)))
        goto out;
    if (!header) {
        rc = hh_diag_set(d, HH_EHEADER, "%s: empty file (no header)", path);
        goto out;
    }
    /* Only a fully valid file changes the table.  A repeated symbol keeps
     * its first row (HH_EEXIST is not an error here). */
    for (size_t i = 0; i < nrows; i++) {
        hh_iid_t id;

        rc = add_impl(t, &rows[i], true, &id);
        if (rc == HH_EEXIST)
            continue;
        if (rc) {
            hh_diag_set(d, rc, "%s: %s", path, hh_strerror(rc));
            goto out;
        }
    }
    rc = HH_OK;
out:
    free(scratch);
    free(rows);
    hh_lines_close(lr);
    return rc;
}
