/*
 * common.h — what every subcommand needs: option parsing from a table,
 * loading the "world" (configuration, instruments, calendar), and output
 * files in a directory.  Messages name the file, line and field; callers
 * map failures to exit code 2 (bad usage or input) per SPEC §6.
 */
#ifndef HH_APP_COMMON_H
#define HH_APP_COMMON_H

#include "app/config.h"
#include "core/calendar.h"
#include "core/err.h"
#include "core/fixed.h"
#include "core/instrument.h"
#include "signal/signal.h"

#include <stdbool.h>
#include <stdio.h>

/* One command-line option "--name VALUE" (or a flag without value). */
struct hh_opt {
    const char *name;        /* "--config" */
    const char **value;      /* receives the argument (borrowed from argv) */
    bool required;
    bool flag;               /* takes no value; *value becomes "1" */
};

/*
 * Parse argv[1..argc) against opts.  On error prints "hedgehog CMD: why"
 * and the usage text to stderr and returns HH_EINVAL.  "--help" or "-h" in
 * an option's place prints the usage text to stdout and exits 0: parse
 * first, before anything is opened.
 */
int hh_app_parse(const char *cmd, const char *usage, int argc, char **argv,
                 const struct hh_opt *opts, int nopts);

/* Configuration and the reference data it names. */
struct hh_world {
    struct hh_config cfg;
    char *config_text;            /* the bytes cfg was parsed from (NULL: defaults) */
    size_t config_len;
    struct hh_instruments *inst;
    struct hh_calendar *cal;
};

/* Load config_path (NULL: defaults), its instruments and holidays.  The
 * file is read once: what is recorded of it is what was parsed. */
int hh_world_load(struct hh_world *w, const char *config_path, struct hh_diag *d);
void hh_world_free(struct hh_world *w);

/*
 * --bars: the bars' period — the smallest gap between two bars of one
 * symbol — must equal entry.timeframe (SPEC §5a), else HH_ECONFIG naming
 * both.  A file where no symbol has two bars says nothing: HH_OK.  Reads
 * the file (HH_EIO naming it); inst interns its symbols as read.
 */
int hh_app_check_timeframe(const struct hh_config *c, const char *bars,
                           struct hh_instruments *inst, struct hh_diag *d);

/* The validator's thresholds from the configuration. */
struct hh_sig_rules hh_app_sig_rules(const struct hh_config *c);

/* Create (truncate) dir/name for writing with a large buffer; NULL with a
 * message in d on failure.  *path_out (may be NULL) gets the path. */
FILE *hh_app_create(const char *dir, const char *name, char *path_out, size_t cap,
                    struct hh_diag *d);

/* fclose that reports write errors (full disk) as HH_EIO naming the file. */
int hh_app_close(FILE *f, const char *path, struct hh_diag *d);

/* Wall-clock seconds (monotonic), for elapsed times at the edge. */
double hh_app_seconds(void);

/*
 * Print "hedgehog CMD: message" to stderr, then the usage text when usage
 * is not NULL; returns code (an exit code), so `return hh_app_say(...)`.
 */
int hh_app_say(const char *cmd, const char *usage, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* A fraction: "0.15", or "15%" (percent); *out on the ratio scale. */
int hh_app_parse_fraction(const char *s, hh_ratio_t *out);

#endif
