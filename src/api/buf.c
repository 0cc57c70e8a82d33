/*
 * buf.c — a growing text buffer for responses and the metrics text.  An
 * allocation failure is remembered (`failed`) rather than reported by
 * every call, so builders append freely and check once at the end.
 */
#include "api/api_int.h"

#include "core/grow.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Room for n more bytes and the terminating NUL. */
static bool reserve(struct hh_api__buf *b, size_t n)
{
    if (b->failed)
        return false;
    if (hh_grow(&b->p, &b->cap, b->len + n + 1, 1) != HH_OK) {
        b->failed = true;
        return false;
    }
    return true;
}

void hh_api__buf_put(struct hh_api__buf *b, const char *s, size_t n)
{
    if (!reserve(b, n))
        return;
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

void hh_api__buf_puts(struct hh_api__buf *b, const char *s)
{
    hh_api__buf_put(b, s, strlen(s));
}

void hh_api__buf_printf(struct hh_api__buf *b, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || !reserve(b, (size_t)n))
        return;
    va_start(ap, fmt);
    vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void hh_api__buf_json_str(struct hh_api__buf *b, const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;

        if (c == '"' || c == '\\')
            hh_api__buf_printf(b, "\\%c", c);
        else if (c < 0x20 || c == '<' || c == '>' || c == '&')
            hh_api__buf_printf(b, "\\u%04x", c);
        else
            hh_api__buf_put(b, (const char *)&c, 1);
    }
}

void hh_api__buf_free(struct hh_api__buf *b)
{
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
    b->failed = false;
}

char *hh_api__error_json(const char *code, const char *detail, size_t *len)
{
    struct hh_api__buf b = { 0 };

    hh_api__buf_printf(&b, "{\"error\":\"%s\"", code);
    if (detail) {
        hh_api__buf_puts(&b, ",\"detail\":\"");
        hh_api__buf_json_str(&b, detail);
        hh_api__buf_puts(&b, "\"");
    }
    hh_api__buf_puts(&b, "}");
    if (b.failed) {
        hh_api__buf_free(&b);
        return NULL;
    }
    *len = b.len;
    return b.p;
}
