/*
 * jlog.c — JSON-lines logging through the engine's JSON writer
 * (core/jsonout.h: one escaping rule); a line is written with one fwrite so
 * lines from one writer never interleave.
 */
#include "app/jlog.h"

#include "core/jsonout.h"

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

void hh_jlog__write(struct hh_jlog *log, enum hh_jlog_level level, hh_time_t ts,
                    const char *event, const char *correlation, const char *fmt, ...)
{
    static const char *const names[] = { "debug", "info", "warn", "error" };
    char line[2048], msg[1024];
    struct hh_json w;
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    hh_json_init(&w, 0, line, sizeof line);
    hh_json_begin_object(&w, NULL, false);
    hh_json_time(&w, "ts", ts);
    hh_json_str(&w, "level", names[level]);
    hh_json_str(&w, "event", event);
    hh_json_str(&w, "correlation_id", correlation);
    hh_json_str(&w, "msg", msg);
    hh_json_end_object(&w);
    hh_json_verbatim(&w, "\n");
    fwrite(w.buf, 1, w.len, log->out);
    fflush(log->out);
    hh_json_free(&w);
}
