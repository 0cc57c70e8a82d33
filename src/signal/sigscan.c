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
 */
#include "signal/signal_int.h"

#include <string.h>

/* Bytes allowed inside a fast-path string (a table: read for every byte). */
static const bool plain_byte[256] = {
    [0x20 ... 0x21] = true, [0x23 ... 0x5b] = true, [0x5d ... 0x7e] = true,  /* not " or \ */
};

static bool digit(char ch)
{
    return ch >= '0' && ch <= '9';
}

struct cursor {
    const char *s;
    size_t i, n;
};

static void skip_ws(struct cursor *c)
{
    while (c->i < c->n && (c->s[c->i] == ' ' || c->s[c->i] == '\t'))
        c->i++;
}

static bool eat(struct cursor *c, char ch)
{
    if (c->i < c->n && c->s[c->i] == ch) {
        c->i++;
        return true;
    }
    return false;
}

/* A string at the cursor (on its opening quote). */
static bool scan_string(struct cursor *c, const char **s, size_t *n)
{
    size_t start;

    if (!eat(c, '"'))
        return false;
    start = c->i;
    while (c->i < c->n && plain_byte[(unsigned char)c->s[c->i]])
        c->i++;
    if (c->i >= c->n || c->s[c->i] != '"')
        return false;
    *s = c->s + start;
    *n = c->i - start;
    c->i++;
    return true;
}

/* A number token at the cursor; v receives an INT or a REAL. */
static bool scan_number(struct cursor *c, struct hh_sig__val *v)
{
    size_t start = c->i, digits = 0;
    bool real = false, neg = eat(c, '-');
    int64_t x = 0;

    if (c->i >= c->n || !digit(c->s[c->i]))
        return false;
    if (c->s[c->i] == '0') {
        c->i++;
        digits = 1;
    } else {
        for (; c->i < c->n && digit(c->s[c->i]); c->i++, digits++)
            if (digits < 18)
                x = x * 10 + (c->s[c->i] - '0');
    }
    if (eat(c, '.')) {
        real = true;
        if (c->i >= c->n || !digit(c->s[c->i]))
            return false;
        while (c->i < c->n && digit(c->s[c->i]))
            c->i++;
    }
    if (c->i < c->n && (c->s[c->i] == 'e' || c->s[c->i] == 'E')) {
        real = true;
        c->i++;
        if (!eat(c, '+'))
            eat(c, '-');
        if (c->i >= c->n || !digit(c->s[c->i]))
            return false;
        while (c->i < c->n && digit(c->s[c->i]))
            c->i++;
    }
    if (real) {
        v->kind = HH_SV_REAL;
        v->s = c->s + start;
        v->n = c->i - start;
        v->finite = true;
        return true;
    }
    if (digits > 18)
        return false;
    v->kind = HH_SV_INT;
    v->i = neg ? -x : x;
    return true;
}

static bool scan_word(struct cursor *c, const char *w, size_t n)
{
    if (c->n - c->i < n || memcmp(c->s + c->i, w, n) != 0)
        return false;
    c->i += n;
    return true;
}

/* A scalar; true when one was read into v. */
static bool scan_scalar(struct cursor *c, struct hh_sig__val *v)
{
    memset(v, 0, sizeof *v);
    if (c->i >= c->n)
        return false;
    switch (c->s[c->i]) {
    case '"':
        v->kind = HH_SV_STR;
        return scan_string(c, &v->s, &v->n);
    case 't':
        v->kind = HH_SV_BOOL;
        return scan_word(c, "true", 4);
    case 'f':
        v->kind = HH_SV_BOOL;
        return scan_word(c, "false", 5);
    case 'n':
        v->kind = HH_SV_NONE;
        return scan_word(c, "null", 4);
    default:
        return scan_number(c, v);
    }
}

/* A list of scalars; its items go to out->item. */
static bool scan_list(struct cursor *c, struct hh_sig__flat *out, struct hh_sig__member *m)
{
    m->v.kind = HH_SV_ARR;
    m->item0 = out->ni;
    m->nitems = 0;
    c->i++;                                  /* '[' */
    skip_ws(c);
    if (eat(c, ']'))
        return true;
    for (;;) {
        if (out->ni == HH_SIG__ITEMS_MAX || !scan_scalar(c, &out->item[out->ni]))
            return false;
        out->ni++;
        m->nitems++;
        skip_ws(c);
        if (eat(c, ']'))
            return true;
        if (!eat(c, ','))
            return false;
        skip_ws(c);
    }
}

static bool scan_member(struct cursor *c, struct hh_sig__flat *out)
{
    struct hh_sig__member *m;

    if (out->nm == HH_SIG__MEMBERS_MAX)
        return false;
    m = &out->m[out->nm++];
    if (!scan_string(c, &m->key, &m->klen))
        return false;
    skip_ws(c);
    if (!eat(c, ':'))
        return false;
    skip_ws(c);
    if (c->i < c->n && c->s[c->i] == '[')
        return scan_list(c, out, m);
    m->item0 = m->nitems = 0;
    return scan_scalar(c, &m->v);
}

bool hh_sig__scan(const char *line, size_t len, struct hh_sig__flat *out)
{
    struct cursor c = { line, 0, len };

    out->nm = out->ni = 0;
    if (!eat(&c, '{'))
        return false;
    skip_ws(&c);
    if (!eat(&c, '}')) {
        for (;;) {
            if (!scan_member(&c, out))
                return false;
            skip_ws(&c);
            if (eat(&c, '}'))
                break;
            if (!eat(&c, ','))
                return false;
            skip_ws(&c);
        }
    }
    return c.i == len;
}
