/*
 * cmd_validate.c — `hedgehog validate`: check a signals file without trading.
 *
 *   hedgehog validate --config FILE --signals FILE --out DIR
 *
 * Every line goes through the signal validator (signal/signal.h) with every
 * check of SPEC §4 but SIZE_TOO_SMALL; the clock at each signal is its own
 * received_at (default ts).  Multi-leg groups (SPEC §8) are validated too.
 * Accepted lines are copied as read to DIR/accepted.jsonl, rejections
 * become dead letters in DIR/rejected.jsonl, and the last line on stdout is
 * `accepted N rejected M`.  Blank lines are skipped (not received); a line
 * too long for the reader is a PARSE_ERROR dead letter with its number.
 *
 * Exit codes (SPEC §6): 0 done; 2 bad usage, unreadable config or signals
 * file, invalid config, output directory not creatable; 1 a write or read
 * error during the run.
 */
#include "app/cmd.h"
#include "app/common.h"
#include "core/path.h"
#include "signal/signal.h"

#include <string.h>

#define ME "validate"
const char hh_usage_validate[] =
    "usage: hedgehog validate --config FILE --signals FILE --out DIR\n";
#define USAGE hh_usage_validate

struct outputs {
    FILE *acc, *rej;
    char acc_path[HH_PATH_MAX + 64], rej_path[HH_PATH_MAX + 64];
    uint64_t accepted, rejected;
};

static int on_accepted(void *ctx, const char *line, size_t len, struct hh_signal *s,
                       const struct hh_group_signal *g)
{
    struct outputs *o = ctx;

    (void)s;
    (void)g;
    o->accepted++;
    if (fwrite(line, 1, len, o->acc) != len || putc('\n', o->acc) == EOF)
        return HH_EIO;
    return HH_OK;
}

static int on_rejected(void *ctx, uint64_t lineno, const char *line, size_t len,
                       const struct hh_sig_reject *rej)
{
    struct outputs *o = ctx;

    (void)line;
    (void)len;
    o->rejected++;
    return hh_sig_write_dead_letter(o->rej, lineno, rej) ? HH_EIO : HH_OK;
}

static int fail(const struct hh_diag *d, int code)
{
    fprintf(stderr, "hedgehog validate: %s\n", d->msg);
    return code;
}

int hh_cmd_validate(int argc, char **argv)
{
    const char *config, *signals, *out;
    const struct hh_opt opts[] = {
        { "--config", &config, true, false },
        { "--signals", &signals, true, false },
        { "--out", &out, true, false },
    };
    struct outputs o = { 0 };
    struct hh_sig_sink sink = { on_accepted, on_rejected, &o };
    struct hh_sig_validator *v = NULL;
    struct hh_sig_rules rules;
    struct hh_world w;
    struct hh_diag d = { "" };
    uint64_t received;
    int rc, code = HH_EXIT_USAGE;

    if (hh_app_parse(ME, USAGE, argc, argv, opts, 3))
        return HH_EXIT_USAGE;
    if (hh_world_load(&w, config, &d))
        return fail(&d, HH_EXIT_USAGE);
    if (!w.cfg.instruments[0])
        fprintf(stderr, "hedgehog validate: warning: %s names no instruments file: every "
                "signal will be UNKNOWN_SYMBOL\n", config);
    if (hh_path_mkdirs(out, &d) ||
        !(o.acc = hh_app_create(out, "accepted.jsonl", o.acc_path, sizeof o.acc_path, &d)) ||
        !(o.rej = hh_app_create(out, "rejected.jsonl", o.rej_path, sizeof o.rej_path, &d))) {
        fail(&d, code);
        goto out;
    }
    rules = hh_app_sig_rules(&w.cfg);
    v = hh_sig_validator_new(w.inst, w.cal, &rules);
    if (!v) {
        hh_diag_set(&d, HH_ENOMEM, "out of memory");
        code = fail(&d, HH_EXIT_FAIL);
        goto out;
    }
    rc = hh_sig_read_file(signals, v, &sink, &received, &d);
    code = HH_EXIT_OK;
    if (rc == HH_EIO && received == 0) {
        code = fail(&d, HH_EXIT_USAGE);       /* the signals file is unreadable */
    } else if (rc) {
        if (!d.msg[0])                        /* a sink's write failed */
            hh_diag_set(&d, rc, "%s: write error", out);
        code = fail(&d, HH_EXIT_FAIL);
    }
    if (hh_app_close(o.acc, o.acc_path, &d) | hh_app_close(o.rej, o.rej_path, &d))
        code = fail(&d, HH_EXIT_FAIL);
    o.acc = o.rej = NULL;
    if (code != HH_EXIT_USAGE)
        printf("accepted %llu rejected %llu\n", (unsigned long long)o.accepted,
               (unsigned long long)o.rejected);
out:
    hh_app_close(o.acc, o.acc_path, NULL);
    hh_app_close(o.rej, o.rej_path, NULL);
    hh_sig_validator_free(v);
    hh_world_free(&w);
    return code;
}
