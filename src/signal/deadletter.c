/*
 * deadletter.c — rejections, and a rejection as one JSON line (SPEC §4
 * dead letters).
 */
#include "signal/signal.h"
#include "signal/signal_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* A bounded output buffer. */
struct obuf {
    char *p;
    size_t len, cap;
};

static void put(struct obuf *o, const char *s, size_t n)
{
    if (n > o->cap - o->len)
        n = o->cap - o->len;
    memcpy(o->p + o->len, s, n);
    o->len += n;
}

static void puts_(struct obuf *o, const char *s)
{
    put(o, s, strlen(s));
}

/* A JSON string: quotes, backslashes and control characters escaped,
 * valid UTF-8 passed through, invalid bytes replaced by U+FFFD. */
static void put_json_string(struct obuf *o, const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    char esc[8];

    put(o, "\"", 1);
    for (size_t i = 0; i < n;) {
        unsigned char ch = u[i];
        size_t k;

        if (ch == '"' || ch == '\\') {
            esc[0] = '\\', esc[1] = (char)ch;
            put(o, esc, 2);
        } else if (ch < 0x20 || ch == 0x7f) {
            const char *named = ch == '\n' ? "\\n" : ch == '\r' ? "\\r" : ch == '\t' ? "\\t" : NULL;

            if (named)
                puts_(o, named);
            else
                put(o, esc, (size_t)snprintf(esc, sizeof esc, "\\u%04x", ch));
        } else if (ch >= 0x80) {
            k = hh_sig__utf8_len(u + i, n - i);
            if (k == 0) {
                puts_(o, "\\ufffd");
                i++;
            } else {
                put(o, s + i, k);
                i += k;
            }
            continue;
        } else {
            put(o, s + i, 1);
        }
        i++;
    }
    put(o, "\"", 1);
}

int hh_sig_write_dead_letter(FILE *f, uint64_t lineno, const struct hh_sig_reject *rej)
{
    char buf[2048], num[32], ts[40];
    struct obuf o = { buf, 0, sizeof buf };

    puts_(&o, "{\"id\":");
    if (rej->id_known)
        put_json_string(&o, rej->id, strnlen(rej->id, sizeof rej->id));
    else
        puts_(&o, "null");
    put(&o, num, (size_t)snprintf(num, sizeof num, ",\"line\":%llu", (unsigned long long)lineno));
    puts_(&o, ",\"reason\":\"");
    puts_(&o, hh_sig_reason_name(rej->reason));
    puts_(&o, "\",\"detail\":");
    put_json_string(&o, rej->detail, strnlen(rej->detail, sizeof rej->detail));
    puts_(&o, ",\"received_at\":");
    if (rej->received_at == HH_TIME_NONE) {
        puts_(&o, "null");
    } else {
        put(&o, "\"", 1);
        put(&o, ts, hh_time_format(rej->received_at, ts, sizeof ts));
        put(&o, "\"", 1);
    }
    puts_(&o, "}\n");
    if (fwrite(buf, 1, o.len, f) != o.len)
        return HH_EIO;
    return HH_OK;
}
