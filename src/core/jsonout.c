/*
 * jsonout.c — the JSON text writer and its escaping rule (jsonout.h).
 *
 * Invariants: w->buf[0..len) is the text and buf[len] is NUL whenever buf
 * is set; len < cap; once w->oom is set nothing more is written.  Bit
 * d of w->used / w->lines describes the container at depth d + 1, and
 * bits of closed containers are clear.
 */
#include "core/jsonout.h"

#include "core/err.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* Make room for n more bytes and the NUL; false (oom latched) when not. */
static bool reserve(struct hh_json *w, size_t n)
{
    size_t cap = w->cap ? w->cap : 256;
    char *q;

    if (w->oom)
        return false;
    if (n < w->cap - w->len)
        return true;
    while (cap - w->len <= n) {
        if (cap > SIZE_MAX / 2)
            goto out_oom;
        cap *= 2;
    }
    q = w->owned ? realloc(w->buf, cap) : malloc(cap);
    if (!q)
        goto out_oom;
    if (!w->owned && w->len)
        memcpy(q, w->buf, w->len);
    w->buf = q;
    w->cap = cap;
    w->owned = true;
    return true;

out_oom:
    w->oom = true;
    return false;
}

static void put(struct hh_json *w, const char *s, size_t n)
{
    if (!reserve(w, n))
        return;
    memcpy(w->buf + w->len, s, n);
    w->len += n;
    w->buf[w->len] = '\0';
}

void hh_json_init(struct hh_json *w, unsigned flags, char *buf, size_t cap)
{
    memset(w, 0, sizeof *w);
    w->flags = flags;
    if (buf && cap) {
        w->buf = buf;
        w->cap = cap;
        buf[0] = '\0';
    }
}

void hh_json_reset(struct hh_json *w)
{
    w->len = 0;
    if (w->buf)
        w->buf[0] = '\0';
    w->depth = 0;
    w->used = w->lines = 0;
    w->brk = false;
}

void hh_json_free(struct hh_json *w)
{
    if (!w)
        return;
    if (w->owned)
        free(w->buf);
    w->buf = NULL;
    w->len = w->cap = 0;
    w->owned = false;
}

const char *hh_json_text(const struct hh_json *w)
{
    return w->buf ? w->buf : "";
}

int hh_json_status(const struct hh_json *w)
{
    return w->oom ? HH_ENOMEM : HH_OK;
}

int hh_json_flush(struct hh_json *w, FILE *f)
{
    size_t n = w->len;
    int rc = n && fwrite(w->buf, 1, n, f) != n ? HH_EIO : HH_OK;

    w->len = 0;
    if (w->buf)
        w->buf[0] = '\0';
    return rc;
}

/* ---- the escaping rule ----------------------------------------------------------- */

size_t hh_json_utf8_len(const unsigned char *s, size_t n)
{
    unsigned char c = s[0], lo = 0x80, hi = 0xBF;
    size_t len, i;

    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF)
        len = 2;
    else if (c >= 0xE0 && c <= 0xEF)
        len = 3;
    else if (c >= 0xF0 && c <= 0xF4)
        len = 4;
    else
        return 0;                    /* continuation byte, C0/C1, F5..FF */
    if (c == 0xE0)
        lo = 0xA0;                   /* overlong 3-byte form */
    else if (c == 0xED)
        hi = 0x9F;                   /* surrogates D800..DFFF */
    else if (c == 0xF0)
        lo = 0x90;                   /* overlong 4-byte form */
    else if (c == 0xF4)
        hi = 0x8F;                   /* above U+10FFFF */
    if (n < len || s[1] < lo || s[1] > hi)
        return 0;
    for (i = 2; i < len; i++)
        if (s[i] < 0x80 || s[i] > 0xBF)
            return 0;
    return len;
}

/* The escape for the character at u[0..n) (esc: room for one \u00XX), or
 * NULL when its *k bytes pass through as they are. */
static const char *escape_of(const unsigned char *u, size_t n, unsigned flags, char esc[8],
                             size_t *k)
{
    unsigned char c = u[0];

    *k = 1;
    switch (c) {
    case '"': return "\\\"";
    case '\\': return "\\\\";
    case '\n': return "\\n";
    case '\r': return "\\r";
    case '\t': return "\\t";
    case '<': return flags & HH_JSON_HTML ? "\\u003c" : NULL;
    case '>': return flags & HH_JSON_HTML ? "\\u003e" : NULL;
    case '&': return flags & HH_JSON_HTML ? "\\u0026" : NULL;
    default:
        break;
    }
    if (c < 0x20 || c == 0x7f) {
        snprintf(esc, 8, "\\u%04x", c);
        return esc;
    }
    if (c >= 0x80 && (*k = hh_json_utf8_len(u, n)) == 0) {
        *k = 1;
        return "\\ufffd";
    }
    return NULL;
}

/* s[0..n) as a string literal: plain runs copied whole. */
static void put_string(struct hh_json *w, const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t from = 0, i = 0;
    char esc[8];

    put(w, "\"", 1);
    while (i < n) {
        size_t k;
        const char *e = escape_of(u + i, n - i, w->flags, esc, &k);

        if (e) {
            put(w, s + from, i - from);
            put(w, e, strlen(e));
            from = i + k;
        }
        i += k;
    }
    put(w, s + from, n - from);
    put(w, "\"", 1);
}

/* ---- structure -------------------------------------------------------------------- */

static void newline(struct hh_json *w, int depth)
{
    static const char spaces[] = "                                "
                                 "                                ";   /* 2 x depth max */

    put(w, "\n", 1);
    if (w->flags & HH_JSON_SPACED)
        put(w, spaces, 2 * (size_t)depth);
}

/* The separator before a value, and its key when it has one. */
static void member(struct hh_json *w, const char *key)
{
    uint32_t bit = w->depth ? 1u << (w->depth - 1) : 0;

    if (w->used & bit)
        put(w, ",", 1);
    if (bit && ((w->lines & bit) || w->brk))
        newline(w, w->depth);
    else if ((w->used & bit) && (w->flags & HH_JSON_SPACED))
        put(w, " ", 1);
    w->used |= bit;
    w->brk = false;
    if (!key)
        return;
    put_string(w, key, strlen(key));
    if (w->flags & HH_JSON_SPACED)
        put(w, ": ", 2);
    else
        put(w, ":", 1);
}

static void begin(struct hh_json *w, const char *key, bool lines, const char *open)
{
    uint32_t bit;

    HH_ASSERT(w->depth < HH_JSON_DEPTH_MAX);
    member(w, key);
    put(w, open, 1);
    bit = 1u << w->depth++;
    w->used &= ~bit;
    if (lines)
        w->lines |= bit;
    else
        w->lines &= ~bit;
}

static void end(struct hh_json *w, const char *close)
{
    uint32_t bit;

    HH_ASSERT(w->depth > 0);
    bit = 1u << --w->depth;
    if (w->lines & bit)
        newline(w, w->depth);
    put(w, close, 1);
    w->used &= ~bit;
    w->lines &= ~bit;
    w->brk = false;
}

void hh_json_begin_object(struct hh_json *w, const char *key, bool lines)
{
    begin(w, key, lines, "{");
}

void hh_json_end_object(struct hh_json *w)
{
    end(w, "}");
}

void hh_json_begin_array(struct hh_json *w, const char *key, bool lines)
{
    begin(w, key, lines, "[");
}

void hh_json_end_array(struct hh_json *w)
{
    end(w, "]");
}

void hh_json_break(struct hh_json *w)
{
    w->brk = true;
}

/* ---- values -------------------------------------------------------------------------- */

void hh_json_strn(struct hh_json *w, const char *key, const char *s, size_t n)
{
    member(w, key);
    put_string(w, s, n);
}

void hh_json_str(struct hh_json *w, const char *key, const char *s)
{
    if (s)
        hh_json_strn(w, key, s, strlen(s));
    else
        hh_json_null(w, key);
}

void hh_json_null(struct hh_json *w, const char *key)
{
    member(w, key);
    put(w, "null", 4);
}

void hh_json_bool(struct hh_json *w, const char *key, bool v)
{
    member(w, key);
    put(w, v ? "true" : "false", v ? 4 : 5);
}

/* The decimal digits of v, ending at end: returns where they start.  What
 * printf's %llu writes, without printf (report.html writes 10^5-10^6 of
 * them). */
static char *digits(char *end, uint64_t v)
{
    do {
        *--end = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    return end;
}

void hh_json_int(struct hh_json *w, const char *key, int64_t v)
{
    char b[24], *p = digits(b + sizeof b, v < 0 ? 0 - (uint64_t)v : (uint64_t)v);

    if (v < 0)
        *--p = '-';
    member(w, key);
    put(w, p, (size_t)(b + sizeof b - p));
}

void hh_json_uint(struct hh_json *w, const char *key, uint64_t v)
{
    char b[24], *p = digits(b + sizeof b, v);

    member(w, key);
    put(w, p, (size_t)(b + sizeof b - p));
}

void hh_json_fx(struct hh_json *w, const char *key, int64_t v, int places)
{
    hh_json_dec(w, key, v, HH_FX_DIGITS, places, places);
}

void hh_json_dec(struct hh_json *w, const char *key, int64_t v, int digits, int places,
                 int min_places)
{
    char b[48];
    size_t n = hh_dec_format(b, sizeof b, v, digits, places);

    for (int k = places; k > min_places && b[n - 1] == '0'; k--)
        n--;
    if (min_places == 0 && b[n - 1] == '.')
        n--;
    member(w, key);
    put(w, b, n);
}

void hh_json_time(struct hh_json *w, const char *key, hh_time_t t)
{
    char b[48];

    if (t == HH_TIME_NONE) {
        hh_json_null(w, key);
        return;
    }
    hh_json_strn(w, key, b, hh_time_format(t, b, sizeof b));
}

void hh_json_num(struct hh_json *w, const char *key, const char *fmt, ...)
{
    char b[64];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(b, sizeof b, fmt, ap);
    va_end(ap);
    member(w, key);
    put(w, b, n < 0 ? 0 : (size_t)n < sizeof b ? (size_t)n : sizeof b - 1);
}

void hh_json_raw(struct hh_json *w, const char *key, const char *text, size_t n)
{
    member(w, key);
    put(w, text, n);
}

void hh_json_verbatim(struct hh_json *w, const char *text)
{
    put(w, text, strlen(text));
}

void hh_json_put_str(FILE *f, const char *s)
{
    char buf[256];
    struct hh_json w;

    hh_json_init(&w, HH_JSON_HTML, buf, sizeof buf);
    hh_json_str(&w, NULL, s);
    fputs(hh_json_text(&w), f);
    hh_json_free(&w);
}
