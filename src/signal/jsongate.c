/*
 * jsongate.c — the lexical gate in front of json-c.
 *
 * Signals are parsed with json-c because it keeps the exact text of real
 * number tokens (so prices go text -> fixed-point, never through double).
 * json-c's strict mode (JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8,
 * json-c 0.16) is still more lenient than RFC 8259.  Verified empirically,
 * it accepts: single-quoted strings, raw control bytes inside strings, "1."
 * and other non-RFC number forms, overlong UTF-8 (C0 80) and UTF-8 encoded
 * surrogates (ED A0 80).  It knows only NaN / Infinity / -Infinity as
 * non-finite tokens (lowercase "nan" is a parse error there).
 *
 * So every line that takes the full road (the lines the fast scanner of
 * sigscan.c declines) passes this gate first, one left-to-right scan that knows
 * whether it is inside a string (and skips the byte after a backslash):
 *   - outside strings only JSON whitespace, the six structural characters,
 *     '"' and "words" (runs of [A-Za-z0-9.+-]) may appear: anything else —
 *     a single quote, a '/' comment, a control byte, a non-ASCII byte — is
 *     rejected;
 *   - a word must be true, false, null or an RFC 8259 number; a bare
 *     non-finite spelling (nan, inf, infinity, any case, optionally signed
 *     with + or -) is rewritten, on a copy of the line, to "NaN" padded with
 *     spaces to the same length, so that json-c parses it and the field
 *     check reports NOT_FINITE rather than PARSE_ERROR;
 *   - inside strings, raw bytes below 0x20 are rejected and bytes >= 0x80
 *     must form valid UTF-8 (strict RFC 3629);
 *   - a line ending inside a string is rejected (truncated), and so is
 *     anything but whitespace after the bracket closing the outer value;
 *   - an object key containing \u0000 is rejected (json-c would cut the key
 *     at the NUL and so alias it to another field).
 * Escape sequences themselves, structure, nesting and trailing text are
 * left to json-c.
 */
#include "signal/signal_int.h"

#include "core/err.h"
#include "core/jsonout.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Byte classes for the scans (tables: the gate runs on every byte). */
enum { B_PLAIN, B_QUOTE, B_BSLASH, B_CTRL, B_HIGH };

static const unsigned char in_string[256] = {
    [0x00 ... 0x1f] = B_CTRL, ['"'] = B_QUOTE, ['\\'] = B_BSLASH,
    [0x80 ... 0xff] = B_HIGH,
};

/* Characters that make up a bare word: literals, numbers, nan/inf. */
static const bool word_char[256] = {
    ['a' ... 'z'] = true, ['A' ... 'Z'] = true, ['0' ... '9'] = true,
    ['.'] = true, ['+'] = true, ['-'] = true,
};

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_word_char(char c)
{
    return word_char[(unsigned char)c];
}

bool hh_sig__is_json_number(const char *s, size_t n)
{
    size_t i = 0, d;

    if (i < n && s[i] == '-')
        i++;
    if (i >= n || !is_digit(s[i]))
        return false;
    if (s[i] == '0')
        i++;
    else
        while (i < n && is_digit(s[i]))
            i++;
    if (i < n && s[i] == '.') {
        for (d = ++i; i < n && is_digit(s[i]); i++)
            ;
        if (i == d)
            return false;
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-'))
            i++;
        for (d = i; i < n && is_digit(s[i]); i++)
            ;
        if (i == d)
            return false;
    }
    return i == n;
}

/* Case-insensitive comparison of s[0..n) with the lowercase word w. */
static bool eq_nocase(const char *s, size_t n, const char *w)
{
    size_t i;

    for (i = 0; i < n && w[i]; i++) {
        char c = s[i];

        if (c >= 'A' && c <= 'Z')
            c = (char)(c + 32);
        if (c != w[i])
            return false;
    }
    return i == n && w[i] == '\0';
}

bool hh_sig__is_nonfinite(const char *s, size_t n)
{
    if (n > 0 && (s[0] == '+' || s[0] == '-'))
        s++, n--;
    return eq_nocase(s, n, "nan") || eq_nocase(s, n, "inf") ||
           eq_nocase(s, n, "infinity");
}

static int gate_fail(char *why, size_t cap, size_t at, const char *what)
{
    snprintf(why, cap, "%s at byte %zu", what, at + 1);
    return HH_ESYNTAX;
}

/* After the string that ended before line[i]: is it an object key? */
static bool followed_by_colon(const char *line, size_t len, size_t i)
{
    while (i < len && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r' ||
                       line[i] == '\n'))
        i++;
    return i < len && line[i] == ':';
}

/* Scan the string whose opening quote is at line[*pos]; leave *pos after
 * the closing quote.  A key may not contain \u0000: json-c keeps keys as C
 * strings and would silently cut "entry\u0000x" down to "entry". */
static int gate_string(const char *line, size_t len, size_t *pos, char *why, size_t cap)
{
    const unsigned char *s = (const unsigned char *)line;
    size_t i = *pos + 1, k;
    bool nul = false;

    while (i < len) {
        unsigned char c;

        while (i < len && in_string[s[i]] == B_PLAIN)
            i++;
        if (i >= len)
            break;
        c = s[i];
        if (c == '"') {
            if (nul && followed_by_colon(line, len, i + 1))
                return gate_fail(why, cap, *pos, "\\u0000 in an object key");
            *pos = i + 1;
            return HH_OK;
        }
        if (c == '\\') {
            if (i + 1 >= len)
                break;
            if (s[i + 1] < 0x20 || s[i + 1] >= 0x80)
                return gate_fail(why, cap, i + 1, "invalid escape");
            if (s[i + 1] == 'u' && len - i >= 6 && !memcmp(line + i + 2, "0000", 4))
                nul = true;
            i += 2;
            continue;
        }
        if (c < 0x20)
            return gate_fail(why, cap, i, "raw control character in a string");
        if (c >= 0x80) {
            k = hh_json_utf8_len(s + i, len - i);
            if (k == 0)
                return gate_fail(why, cap, i, "invalid UTF-8");
            i += k;
            continue;
        }
        i++;
    }
    return gate_fail(why, cap, *pos, "unterminated string");
}

/* Make sure the rewrite copy exists: copy the line into buf once. */
static int gate_copy(const char *line, size_t len, struct hh_sig__buf *buf,
                     const char **text)
{
    if (*text != line)
        return HH_OK;
    if (buf->cap < len + 1) {
        size_t cap = buf->cap ? buf->cap : 256;
        char *p;

        while (cap < len + 1)
            cap *= 2;
        p = realloc(buf->p, cap);
        if (!p)
            return HH_ENOMEM;
        buf->p = p;
        buf->cap = cap;
    }
    memcpy(buf->p, line, len);
    buf->p[len] = '\0';
    *text = buf->p;
    return HH_OK;
}

/* Check the bare word line[at..at+n); rewrite a non-finite spelling. */
static int gate_word(const char *line, size_t at, size_t n, size_t len,
                     struct hh_sig__buf *buf, const char **text, char *why, size_t cap)
{
    const char *w = line + at;

    if ((n == 4 && (!memcmp(w, "true", 4) || !memcmp(w, "null", 4))) ||
        (n == 5 && !memcmp(w, "false", 5)) || hh_sig__is_json_number(w, n))
        return HH_OK;
    if (hh_sig__is_nonfinite(w, n)) {
        if (gate_copy(line, len, buf, text))
            return HH_ENOMEM;
        memcpy(buf->p + at, "NaN", 3);
        memset(buf->p + at + 3, ' ', n - 3);
        return HH_OK;
    }
    if (is_digit(w[0]) || w[0] == '-' || w[0] == '+' || w[0] == '.')
        return gate_fail(why, cap, at, "invalid number");
    return gate_fail(why, cap, at, "invalid literal");
}

int hh_sig__gate(const char *line, size_t len, struct hh_sig__buf *buf,
                 const char **text, size_t *top_end, char *why, size_t cap)
{
    size_t i = 0, start, depth = 0;
    int rc;

    *text = line;
    *top_end = len;
    while (i < len) {
        char c = line[i];

        if (depth == 0 && *top_end != len && c != ' ' && c != '\t' && c != '\r' &&
            c != '\n')
            return gate_fail(why, cap, i, "trailing text after the object");
        switch (c) {
        case '{': case '[':
            depth++;
            i++;
            continue;
        case '}': case ']':
            if (depth > 0 && --depth == 0 && *top_end == len)
                *top_end = i + 1;
            i++;
            continue;
        case ' ': case '\t': case '\r': case '\n': case ':': case ',':
            i++;
            continue;
        case '"':
            rc = gate_string(line, len, &i, why, cap);
            if (rc)
                return rc;
            continue;
        case '\'':
            return gate_fail(why, cap, i, "single quote outside a string");
        default:
            break;
        }
        if (!is_word_char(c))
            return gate_fail(why, cap, i, (unsigned char)c >= 0x80 ?
                             "non-ASCII byte outside a string" : "unexpected character");
        for (start = i; i < len && is_word_char(line[i]); i++)
            ;
        rc = gate_word(line, start, i - start, len, buf, text, why, cap);
        if (rc)
            return rc;
    }
    return HH_OK;
}
