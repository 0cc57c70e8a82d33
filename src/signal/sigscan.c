/*
 * sigscan.c — the fast path in front of the gate and json-c.
 *
 * Nearly every signal a generator writes is one flat JSON object: plain
 * ASCII strings without escapes, numbers, true/false/null and a list of
 * target prices.  For such a line json-c's general machinery (an object
 * per value, a hash table per object, strtod and a locale per real number)
 * costs three quarters of the time spent on it.  This scanner reads exactly
 * that shape in one pass, pointing into the line instead of copying.
 *
 * It never reports an error: anything outside the shape below is declined
 * (false) and the line takes the full road — gate, json-c, conversion —
 * which also produces every PARSE_ERROR message.  So the scanner only has
 * to be a subset of what gate + json-c accept, giving the same values;
 * tests/fuzz/fuzz_signal.c checks that on every input it generates, by
 * validating each line both ways and comparing the outcomes.
 *
 * The shape (a subset of RFC 8259; ws is space or tab):
 *   line    = '{' ws [ member *( ws ',' ws member ) ] ws '}'   and nothing after
 *   member  = string ws ':' ws value
 *   value   = scalar | '[' ws [ scalar *( ws ',' ws scalar ) ] ws ']'
 *   scalar  = string | number | "true" | "false" | "null"
 *   string  = '"' *( bytes 0x20-0x7e except '"' and '\' ) '"'
 *   number  = RFC 8259 number; an integer token has at most 18 digits
 * Integers of 19 digits and more are declined because json-c clamps them
 * to int64 in its own way; the full road reproduces that.
 *
 * Every function takes the position p and the line's end e and returns the
 * position after what it read, or NULL to decline; nothing is read at or
 * past e (the caller's line need not be padded).  Strings are scanned 16
 * bytes at a time with SSE2 while 16 bytes remain.
 */
#include "signal/signal_int.h"

#ifdef __SSE2__
#include <emmintrin.h>
#endif
#include <string.h>

/* Bytes allowed inside a fast-path string (a table: read for every byte). */
static const bool plain_byte[256] = {
    [0x20 ... 0x21] = true, [0x23 ... 0x5b] = true, [0x5d ... 0x7e] = true,  /* not " or \ */
};

static inline bool digit(char ch)
{
    return (unsigned char)(ch - '0') <= 9;
}

static inline const char *skip_ws(const char *p, const char *e)
{
    if (p < e && (unsigned char)*p > ' ')       /* the usual: no blank at all */
        return p;
    while (p < e && (*p == ' ' || *p == '\t'))
        p++;
    return p;
}

/* The first byte at or after p that may not appear in a plain string. */
static inline const char *plain_end(const char *p, const char *e)
{
#ifdef __SSE2__
    const __m128i low = _mm_set1_epi8(0x20), del = _mm_set1_epi8(0x7f);
    const __m128i dq = _mm_set1_epi8('"'), bs = _mm_set1_epi8('\\');

    for (; e - p >= 16; p += 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
        /* signed: bytes below 0x20 and from 0x80 on are both "less" */
        __m128i bad = _mm_or_si128(_mm_or_si128(_mm_cmplt_epi8(v, low), _mm_cmpeq_epi8(v, del)),
                                   _mm_or_si128(_mm_cmpeq_epi8(v, dq), _mm_cmpeq_epi8(v, bs)));
        unsigned m = (unsigned)_mm_movemask_epi8(bad);

        if (m)
            return p + __builtin_ctz(m);
    }
#endif
    while (p < e && plain_byte[(unsigned char)*p])
        p++;
    return p;
}

/* A string at p (on its opening quote): *s, *n get its bytes. */
static inline const char *scan_string(const char *p, const char *e, const char **s, size_t *n)
{
    const char *q;

    if (p >= e || *p != '"')
        return NULL;
    q = plain_end(p + 1, e);
    if (q >= e || *q != '"')
        return NULL;
    *s = p + 1;
    *n = (size_t)(q - p - 1);
    return q + 1;
}

/* Digits at p: the position after them. */
static inline const char *digits(const char *p, const char *e)
{
    while (p < e && digit(*p))
        p++;
    return p;
}

/* A number token at p; v receives an INT or a REAL. */
static const char *scan_number(const char *p, const char *e, struct hh_sig__val *v)
{
    const char *start = p, *whole, *q;
    bool neg = p < e && *p == '-', real = false;
    int64_t x = 0;

    p += neg;
    if (p >= e || !digit(*p))
        return NULL;
    whole = p;
    q = *p == '0' ? p + 1 : digits(p, e);
    p = q;
    if (p < e && *p == '.') {
        real = true;
        q = digits(p + 1, e);
        if (q == p + 1)
            return NULL;
        p = q;
    }
    if (p < e && (*p == 'e' || *p == 'E')) {
        real = true;
        p++;
        if (p < e && (*p == '+' || *p == '-'))
            p++;
        q = digits(p, e);
        if (q == p)
            return NULL;
        p = q;
    }
    if (real) {
        *v = (struct hh_sig__val){ .kind = HH_SV_REAL, .s = start, .n = (size_t)(p - start),
                                   .finite = true };
        return p;
    }
    if (q - whole > 18)
        return NULL;                         /* a long integer: json-c's clamp */
    for (; whole < q; whole++)
        x = x * 10 + (*whole - '0');
    *v = (struct hh_sig__val){ .kind = HH_SV_INT, .i = neg ? -x : x };
    return p;
}

/* The literal w (n bytes) at p. */
static inline const char *scan_word(const char *p, const char *e, const char *w, size_t n)
{
    return (size_t)(e - p) >= n && memcmp(p, w, n) == 0 ? p + n : NULL;
}

/* A scalar at p, read into v. */
static const char *scan_scalar(const char *p, const char *e, struct hh_sig__val *v)
{
    if (p >= e)
        return NULL;
    switch (*p) {
    case '"':
        *v = (struct hh_sig__val){ .kind = HH_SV_STR };
        return scan_string(p, e, &v->s, &v->n);
    case 't':
        *v = (struct hh_sig__val){ .kind = HH_SV_BOOL };
        return scan_word(p, e, "true", 4);
    case 'f':
        *v = (struct hh_sig__val){ .kind = HH_SV_BOOL };
        return scan_word(p, e, "false", 5);
    case 'n':
        *v = (struct hh_sig__val){ .kind = HH_SV_NONE };
        return scan_word(p, e, "null", 4);
    default:
        return scan_number(p, e, v);
    }
}

/* A list of scalars at p (on its '['); its items go to out->item. */
static const char *scan_list(const char *p, const char *e, struct hh_sig__flat *out,
                             struct hh_sig__member *m)
{
    m->v = (struct hh_sig__val){ .kind = HH_SV_ARR };
    m->item0 = out->ni;
    m->nitems = 0;
    p = skip_ws(p + 1, e);
    if (p < e && *p == ']')
        return p + 1;
    for (;;) {
        if (out->ni == HH_SIG__ITEMS_MAX || !(p = scan_scalar(p, e, &out->item[out->ni])))
            return NULL;
        out->ni++;
        m->nitems++;
        p = skip_ws(p, e);
        if (p < e && *p == ']')
            return p + 1;
        if (p >= e || *p != ',')
            return NULL;
        p = skip_ws(p + 1, e);
    }
}

static const char *scan_member(const char *p, const char *e, struct hh_sig__flat *out)
{
    struct hh_sig__member *m;

    if (out->nm == HH_SIG__MEMBERS_MAX)
        return NULL;
    m = &out->m[out->nm++];
    if (!(p = scan_string(p, e, &m->key, &m->klen)))
        return NULL;
    p = skip_ws(p, e);
    if (p >= e || *p != ':')
        return NULL;
    p = skip_ws(p + 1, e);
    if (p < e && *p == '[')
        return scan_list(p, e, out, m);
    m->item0 = m->nitems = 0;
    return scan_scalar(p, e, &m->v);
}

bool hh_sig__scan(const char *line, size_t len, struct hh_sig__flat *out)
{
    const char *p = line, *e = line + len;

    out->nm = out->ni = 0;
    if (p >= e || *p != '{')
        return false;
    p = skip_ws(p + 1, e);
    if (p < e && *p == '}')
        return p + 1 == e;
    for (;;) {
        if (!(p = scan_member(p, e, out)))
            return false;
        p = skip_ws(p, e);
        if (p < e && *p == '}')
            return p + 1 == e;
        if (p >= e || *p != ',')
            return false;
        p = skip_ws(p + 1, e);
    }
}
