/*
 * readfile.c — a signals file read and validated line by line (contract in
 * signal.h, hh_sig_read_file).
 *
 * Invariants: lines reach the sink in file order, each exactly once; blank
 * lines are skipped and not counted; a line longer than the reader's limit
 * becomes a PARSE_ERROR dead letter without its text.
 */
#include "signal/signal.h"

#include "core/lines.h"
#include "signal/group.h"

#include <stdlib.h>

/* One non-blank line (or an over-long one, rc HH_EFULL) through the validator. */
static int signal_line(struct hh_sig_validator *v, const struct hh_sig_sink *sink, int rc,
                       const char *line, size_t len, uint64_t lineno,
                       struct hh_group_signal *g)
{
    struct hh_signal s;
    struct hh_sig_reject rej;

    if (rc == HH_EFULL) {
        hh_sig_reject_set(&rej, HH_SIG_PARSE_ERROR, HH_TIME_NONE, "line longer than %u bytes",
                          HH_LINES_DEFAULT_MAX);
        return sink->rejected(sink->ctx, lineno, NULL, 0, &rej);
    }
    if (hh_sig_process_any(v, line, len, lineno, HH_TIME_NONE, &s, g, &rej))
        return sink->accepted(sink->ctx, line, len, &s, g);
    return sink->rejected(sink->ctx, lineno, line, len, &rej);
}

int hh_sig_read_file(const char *path, struct hh_sig_validator *v,
                     const struct hh_sig_sink *sink, uint64_t *received, struct hh_diag *d)
{
    struct hh_group_signal *g = malloc(sizeof *g);   /* large: not on the stack */
    struct hh_lines *lr = NULL;
    const char *line = NULL;
    size_t len = 0;
    int rc;

    *received = 0;
    if (!g)
        return hh_diag_set(d, HH_ENOMEM, "out of memory");
    rc = hh_lines_open(&lr, path, 0, d);
    while (!rc && (rc = hh_lines_next(lr, &line, &len)) != 0) {
        if (rc < 0 && rc != HH_EFULL) {
            hh_diag_set(d, rc, "%s: read error", path);
            break;
        }
        if (rc == 1 && hh_sig_line_blank(line, len)) {
            rc = HH_OK;
            continue;
        }
        (*received)++;
        rc = signal_line(v, sink, rc, line, len, hh_lines_lineno(lr), g);
    }
    hh_lines_close(lr);
    free(g);
    return rc;
}
