/*
 * jlog.h — structured logs for long-lived runs: one JSON object per line,
 *
 *   {"ts":"2025-01-02T09:15:00.250+05:30","level":"info","event":"order_sent",
 *    "correlation_id":"sig-42","msg":"BUY 75 NIFTY25JANFUT at market"}
 *
 * `ts` is the engine time the event belongs to (not the wall clock), so a
 * replayed day logs the same lines.  `log` must not be NULL.  HH_JLOG checks the level before
 * anything is formatted: a filtered-out call costs one comparison.  This is
 * an edge module (it writes to a FILE); the core emits events, not prose.
 */
#ifndef HH_JLOG_H
#define HH_JLOG_H

#include "core/time.h"

#include <stdio.h>

enum hh_jlog_level { HH_LOG_DEBUG, HH_LOG_INFO, HH_LOG_WARN, HH_LOG_ERROR };

struct hh_jlog {
    FILE *out;                     /* borrowed */
    enum hh_jlog_level min;        /* lines below this level are not written */
};

/* Parse "debug" "info" "warn" "error"; false when unknown. */
bool hh_jlog_level_parse(const char *s, enum hh_jlog_level *out);

/* Write one line (use the macro). */
void hh_jlog__write(struct hh_jlog *log, enum hh_jlog_level level, hh_time_t ts,
                    const char *event, const char *correlation, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

#define HH_JLOG(log, level, ts, event, corr, ...)                                   \
    do {                                                                            \
        if ((level) >= (log)->min)                                                  \
            hh_jlog__write((log), (level), (ts), (event), (corr), __VA_ARGS__);     \
    } while (0)

#endif
