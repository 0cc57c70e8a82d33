/*
 * jlog.c — JSON-lines logging.  Strings are escaped for JSON; a line is
 * written with one fwrite so lines from one writer never interleave.
 */
#include "app/jlog.h"

#include <stdarg.h>
#include <stdbool.h>
#include <string.h>

bool hh_jlog_level_parse(const char *s, enum hh_jlog_level *out)
{
    static const char *const names[] = { "debug", "info", "warn", "error" };

    for (int i = 0; i < 4; i++) {
        if (!strcmp(s, names[i])) {
            *out = (enum hh_jlog_level)i;
            return true;
        }
    }
    return false;
}

/* Append s as JSON string contents (no quotes); returns the new length. */
static size_t escape(char *buf, size_t at, size_t cap, const char *s)
{
    for (; *s && at + 7 < cap; s++) {
        unsigned char c = (unsigned char)*s;

        if (c == '"' || c == '\\') {
            buf[at++] = '\\';
            buf[at++] = (char)c;
        } else if (c < 0x20) {
            at += (size_t)snprintf(buf + at, cap - at, "\\u%04x", c);
        } else {
            buf[at++] = (char)c;
        }
    }
    return at;
}

static size_t append(char *buf, size_t at, size_t cap, const char *s)
{
    size_t n = strlen(s);

    if (at + 1 >= cap)
        return at;   /* full: the line is cut */
    if (at + n >= cap)
        n = cap - at - 1;
    memcpy(buf + at, s, n);
    return at + n;
}

void hh_jlog__write(struct hh_jlog *log, enum hh_jlog_level level, hh_time_t ts,
                    const char *event, const char *correlation, const char *fmt, ...)
{
    static const char *const names[] = { "debug", "info", "warn", "error" };
    char line[2048], msg[1024], t[40];
    size_t n = 0;
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (ts != HH_TIME_NONE)
        hh_time_format(ts, t, sizeof t);
    n = append(line, n, sizeof line, "{\"ts\":");
    n = append(line, n, sizeof line, ts != HH_TIME_NONE ? "\"" : "null");
    if (ts != HH_TIME_NONE) {
        n = append(line, n, sizeof line, t);
        n = append(line, n, sizeof line, "\"");
    }
    n = append(line, n, sizeof line, ",\"level\":\"");
    n = append(line, n, sizeof line, names[level]);
    n = append(line, n, sizeof line, "\",\"event\":\"");
    n = escape(line, n, sizeof line, event);
    n = append(line, n, sizeof line, "\",\"correlation_id\":");
    if (correlation) {
        n = append(line, n, sizeof line, "\"");
        n = escape(line, n, sizeof line, correlation);
        n = append(line, n, sizeof line, "\"");
    } else {
        n = append(line, n, sizeof line, "null");
    }
    n = append(line, n, sizeof line, ",\"msg\":\"");
    n = escape(line, n, sizeof line, msg);
    n = append(line, n, sizeof line, "\"}\n");
    fwrite(line, 1, n, log->out);
    fflush(log->out);
}
