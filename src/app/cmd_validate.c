/*
 * cmd_validate.c — `hedgehog validate`: check a signals file without trading.
 *
 *   hedgehog validate --config FILE --signals FILE --out DIR
 *
 * Every line goes through the signal validator (signal/signal.h) with every
 * check of SPEC §4 but SIZE_TOO_SMALL; the clock at each signal is its own
 * received_at (default ts), so `now` is HH_TIME_NONE.  Accepted lines are
 * copied as read to DIR/accepted.jsonl, rejections become dead letters in
 * DIR/rejected.jsonl, and the last line on stdout is
 * `accepted N rejected M`.  Blank lines are skipped (not received); a line
 * too long for the reader is a PARSE_ERROR dead letter with its number.
 *
 * Exit codes (SPEC §6): 0 done; 2 bad usage, unreadable config or signals
 * file, invalid config, output directory not creatable; 1 a read or write
 * error during the run.
 */
#include "app/cmd.h"
#include "app/config.h"
#include "core/calendar.h"
#include "core/instrument.h"
#include "core/lines.h"
#include "signal/group.h"
#include "signal/signal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define USAGE "usage: hedgehog validate --config FILE --signals FILE --out DIR\n"
#define ME "hedgehog validate: "

struct opts {
    const char *config, *signals, *out;   /* borrowed from argv */
};

/* The two output files of a run. */
struct outputs {
    FILE *acc, *rej;
    char acc_path[HH_PATH_MAX + 32], rej_path[HH_PATH_MAX + 32];
};

/* ---- arguments ------------------------------------------------------------- */

static int usage_error(const char *fmt, const char *arg)
{
    fprintf(stderr, ME);
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\n" USAGE);
    return HH_EXIT_USAGE;
}

/* Parse argv (argv[0] is "validate"); 0 or HH_EXIT_USAGE after a message. */
static int parse_args(int argc, char **argv, struct opts *o)
{
    static const char *const names[] = { "--config", "--signals", "--out" };

    memset(o, 0, sizeof *o);
    for (int i = 1; i < argc; i++) {
        const char **slot[] = { &o->config, &o->signals, &o->out };
        int k;

        for (k = 0; k < 3; k++)
            if (!strcmp(argv[i], names[k]))
                break;
        if (k == 3)
            return usage_error("unknown argument '%s'", argv[i]);
        if (i + 1 >= argc)
            return usage_error("%s needs a value", argv[i]);
        if (*slot[k])
            return usage_error("%s given twice", argv[i]);
        *slot[k] = argv[++i];
    }
    {
        const char *given[] = { o->config, o->signals, o->out };

        for (int k = 0; k < 3; k++)
            if (!given[k])
                return usage_error("%s is required", names[k]);
    }
    return 0;
}

/* ---- setup ----------------------------------------------------------------- */

/* Load the config, its holidays and instruments; 0 or HH_EXIT_USAGE. */
static int load_config(const char *path, struct hh_config *c, struct hh_instruments *inst,
                       struct hh_calendar *cal)
{
    struct hh_diag d = { "" };
    int rc;

    hh_config_defaults(c);
    rc = hh_config_load(c, path, &d);
    if (!rc && c->holidays[0])
        rc = hh_cal_load_holidays(cal, c->holidays, &d);
    if (!rc && c->instruments[0])
        rc = hh_inst_load(inst, c->instruments, cal, &d);
    if (rc) {
        fprintf(stderr, ME "%s\n", d.msg[0] ? d.msg : hh_strerror(rc));
        return HH_EXIT_USAGE;
    }
    if (!c->instruments[0])
        fprintf(stderr, ME "warning: %s names no instruments file: every signal "
                "will be UNKNOWN_SYMBOL\n", path);
    return 0;
}

/* mkdir -p: create dir and its missing parents; 0 or -1 with errno. */
static int make_dirs(const char *dir)
{
    char p[HH_PATH_MAX];
    struct stat st;
    size_t n = strlen(dir);

    if (n == 0 || n >= sizeof p) {
        errno = ENAMETOOLONG;
        return -1;
    }
    memcpy(p, dir, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (p[i] != '/' && p[i] != '\0')
            continue;
        p[i] = '\0';
        if (mkdir(p, 0777) != 0 && errno != EEXIST)
            return -1;
        p[i] = i < n ? '/' : '\0';
    }
    if (stat(dir, &st) != 0)
        return -1;
    if (!S_ISDIR(st.st_mode)) {
        errno = ENOTDIR;
        return -1;
    }
    return 0;
}

/* Create DIR and open both outputs; 0 or HH_EXIT_USAGE. */
static int open_outputs(const char *dir, struct outputs *o)
{
    memset(o, 0, sizeof *o);
    if (make_dirs(dir) != 0) {
        fprintf(stderr, ME "%s: cannot create directory: %s\n", dir, strerror(errno));
        return HH_EXIT_USAGE;
    }
    snprintf(o->acc_path, sizeof o->acc_path, "%s/accepted.jsonl", dir);
    snprintf(o->rej_path, sizeof o->rej_path, "%s/rejected.jsonl", dir);
    o->acc = fopen(o->acc_path, "w");
    if (!o->acc) {
        fprintf(stderr, ME "%s: cannot create: %s\n", o->acc_path, strerror(errno));
        return HH_EXIT_USAGE;
    }
    o->rej = fopen(o->rej_path, "w");
    if (!o->rej) {
        fprintf(stderr, ME "%s: cannot create: %s\n", o->rej_path, strerror(errno));
        fclose(o->acc);
        o->acc = NULL;
        return HH_EXIT_USAGE;
    }
    return 0;
}

/* Close both outputs; a late write error fails the run. */
static int close_outputs(struct outputs *o, int code)
{
    FILE *f[2] = { o->acc, o->rej };
    const char *p[2] = { o->acc_path, o->rej_path };

    for (int k = 0; k < 2; k++) {
        if (f[k] && fclose(f[k]) != 0 && code == HH_EXIT_OK) {
            fprintf(stderr, ME "%s: write error: %s\n", p[k], strerror(errno));
            code = HH_EXIT_FAIL;
        }
    }
    o->acc = o->rej = NULL;
    return code;
}

/* ---- the run ---------------------------------------------------------------- */

/* Counts of one run. */
struct tally {
    uint64_t accepted, rejected;
};

/* Append a dead letter; HH_OK, or HH_EIO after a message. */
static int put_rejected(struct outputs *o, uint64_t lineno, const struct hh_sig_reject *rej,
                        struct tally *t)
{
    t->rejected++;
    if (hh_sig_write_dead_letter(o->rej, lineno, rej) == HH_OK)
        return HH_OK;
    fprintf(stderr, ME "%s: write error: %s\n", o->rej_path, strerror(errno));
    return HH_EIO;
}

/* Validate one line and write it to the output it belongs to; HH_OK or
 * HH_EIO after a message. */
static int one_line(struct hh_sig_validator *v, struct outputs *o, const char *line,
                    size_t len, uint64_t lineno, struct tally *t)
{
    struct hh_signal s;
    struct hh_group_signal g;   /* multi-leg groups are validated too */
    struct hh_sig_reject rej;

    if (!hh_sig_process_any(v, line, len, lineno, HH_TIME_NONE, &s, &g, &rej))
        return put_rejected(o, lineno, &rej, t);
    t->accepted++;
    if (fwrite(line, 1, len, o->acc) == len && putc('\n', o->acc) != EOF)
        return HH_OK;
    fprintf(stderr, ME "%s: write error: %s\n", o->acc_path, strerror(errno));
    return HH_EIO;
}

/* Stream the signals file; returns the exit code. */
static int stream(struct hh_lines *lr, struct hh_sig_validator *v, struct outputs *o,
                  struct tally *t)
{
    struct hh_sig_reject rej;
    const char *line;
    size_t len;
    int rc;

    while ((rc = hh_lines_next(lr, &line, &len)) != 0) {
        /* The reader returns some lines a little over its limit (those that
         * fit its buffer): the limit is applied here exactly. */
        if (rc == HH_EFULL || (rc == 1 && len > HH_LINES_DEFAULT_MAX)) {
            hh_sig_reject_set(&rej, HH_SIG_PARSE_ERROR, HH_TIME_NONE,
                              "line longer than %u bytes", HH_LINES_DEFAULT_MAX);
            rc = put_rejected(o, hh_lines_lineno(lr), &rej, t);
        } else if (rc < 0) {
            fprintf(stderr, ME "%s: read error: %s\n", hh_lines_name(lr), hh_strerror(rc));
            return HH_EXIT_FAIL;
        } else if (hh_sig_line_blank(line, len)) {
            continue;
        } else {
            rc = one_line(v, o, line, len, hh_lines_lineno(lr), t);
        }
        if (rc)
            return HH_EXIT_FAIL;
    }
    return HH_EXIT_OK;
}

/* Open the signals and outputs, validate every line, print the tally. */
static int run(const struct opts *op, const struct hh_config *c,
               const struct hh_instruments *inst, const struct hh_calendar *cal)
{
    const struct hh_sig_rules rules = {
        .min_rr = c->risk.min_rr,
        .min_confidence = c->risk.min_confidence,
        .max_live_age = c->signals.max_live_age,
        .max_clock_skew = c->signals.max_clock_skew,
        .allow_naked = c->risk.allow_naked,
    };
    struct hh_sig_validator *v;
    struct hh_lines *lr = NULL;
    struct hh_diag d = { "" };
    struct outputs o;
    struct tally t = { 0, 0 };
    int code;

    if (hh_lines_open(&lr, op->signals, 0, &d)) {
        fprintf(stderr, ME "%s\n", d.msg);
        return HH_EXIT_USAGE;
    }
    code = open_outputs(op->out, &o);
    if (code)
        goto out_lines;
    v = hh_sig_validator_new(inst, cal, &rules);
    if (!v) {
        fprintf(stderr, ME "out of memory\n");
        code = close_outputs(&o, HH_EXIT_FAIL);
        goto out_lines;
    }
    code = close_outputs(&o, stream(lr, v, &o, &t));
    hh_sig_validator_free(v);
    printf("accepted %llu rejected %llu\n", (unsigned long long)t.accepted,
           (unsigned long long)t.rejected);
out_lines:
    hh_lines_close(lr);
    return code;
}

int hh_cmd_validate(int argc, char **argv)
{
    struct hh_instruments *inst = hh_inst_new();
    struct hh_calendar *cal = hh_cal_new();
    struct hh_config *cfg = malloc(sizeof *cfg);
    struct opts o;
    int code;

    if (!inst || !cal || !cfg) {
        fprintf(stderr, ME "out of memory\n");
        code = HH_EXIT_FAIL;
        goto out;
    }
    code = parse_args(argc, argv, &o);
    if (code)
        goto out;
    code = load_config(o.config, cfg, inst, cal);
    if (code)
        goto out;
    code = run(&o, cfg, inst, cal);
out:
    free(cfg);
    hh_cal_free(cal);
    hh_inst_free(inst);
    return code;
}
