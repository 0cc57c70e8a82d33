/*
 * common.c — option parsing, world loading and output files shared by the
 * subcommands.  This is the edge: it does I/O and reads the wall clock.
 */
#include "app/common.h"

#include "app/cmd.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int usage_error(const char *cmd, const char *usage, const char *what,
                       const char *arg)
{
    fprintf(stderr, "hedgehog %s: %s%s%s\n%s", cmd, what, arg ? " " : "", arg ? arg : "",
            usage);
    return HH_EINVAL;
}

int hh_app_parse(const char *cmd, const char *usage, int argc, char **argv,
                 const struct hh_opt *opts, int nopts)
{
    for (int k = 0; k < nopts; k++)
        *opts[k].value = NULL;
    for (int i = 1; i < argc; i++) {
        int k;

        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            fputs(usage, stdout);
            exit(fflush(stdout) ? HH_EXIT_FAIL : HH_EXIT_OK);
        }
        for (k = 0; k < nopts; k++)
            if (!strcmp(argv[i], opts[k].name))
                break;
        if (k == nopts)
            return usage_error(cmd, usage, "unknown argument", argv[i]);
        if (*opts[k].value)
            return usage_error(cmd, usage, "option given twice:", argv[i]);
        if (opts[k].flag) {
            *opts[k].value = "1";
            continue;
        }
        if (i + 1 >= argc)
            return usage_error(cmd, usage, "option needs a value:", argv[i]);
        *opts[k].value = argv[++i];
    }
    for (int k = 0; k < nopts; k++)
        if (opts[k].required && !*opts[k].value)
            return usage_error(cmd, usage, "missing required option", opts[k].name);
    return HH_OK;
}

int hh_world_load(struct hh_world *w, const char *config_path, struct hh_diag *d)
{
    int rc;

    memset(w, 0, sizeof *w);
    if (config_path) {
        rc = hh_config_load(&w->cfg, config_path, d);
        if (rc)
            return rc;
    } else {
        hh_config_defaults(&w->cfg);
    }
    w->inst = hh_inst_new();
    w->cal = hh_cal_new();
    if (!w->inst || !w->cal) {
        hh_world_free(w);
        return hh_diag_set(d, HH_ENOMEM, "out of memory");
    }
    if (w->cfg.holidays[0]) {
        rc = hh_cal_load_holidays(w->cal, w->cfg.holidays, d);
        if (rc)
            goto fail;
    }
    if (w->cfg.instruments[0]) {
        rc = hh_inst_load(w->inst, w->cfg.instruments, w->cal, d);
        if (rc)
            goto fail;
    }
    return HH_OK;
fail:
    hh_world_free(w);
    return rc;
}

void hh_world_free(struct hh_world *w)
{
    if (!w)
        return;
    hh_inst_free(w->inst);
    hh_cal_free(w->cal);
    w->inst = NULL;
    w->cal = NULL;
}

#define OUT_BUFFER (1u << 20)

FILE *hh_app_create(const char *dir, const char *name, char *path_out, size_t cap,
                    struct hh_diag *d)
{
    char path[HH_PATH_MAX + 64];
    FILE *f;

    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (path_out)
        snprintf(path_out, cap, "%s", path);
    f = fopen(path, "w");
    if (!f) {
        hh_diag_set(d, HH_EIO, "%s: cannot create: %s", path, strerror(errno));
        return NULL;
    }
    setvbuf(f, NULL, _IOFBF, OUT_BUFFER);
    return f;
}

int hh_app_close(FILE *f, const char *path, struct hh_diag *d)
{
    int bad;

    if (!f)
        return HH_OK;
    bad = ferror(f);
    if (fclose(f) != 0 || bad)
        return hh_diag_set(d, HH_EIO, "%s: write failed: %s", path,
                           errno ? strerror(errno) : "I/O error");
    return HH_OK;
}

double hh_app_seconds(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct hh_sig_rules hh_app_sig_rules(const struct hh_config *c)
{
    struct hh_sig_rules r = {
        .min_rr = c->risk.min_rr,
        .min_confidence = c->risk.min_confidence,
        .max_live_age = c->signals.max_live_age,
        .max_clock_skew = c->signals.max_clock_skew,
        .allow_naked = c->risk.allow_naked,
    };

    return r;
}

int hh_app_say(const char *cmd, const char *usage, int code, const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "hedgehog %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    if (usage)
        fputs(usage, stderr);
    return code;
}

int hh_app_parse_fraction(const char *s, hh_ratio_t *out)
{
    size_t n = strlen(s);
    bool pct = n > 0 && s[n - 1] == '%';

    return hh_dec_parse(s, pct ? n - 1 : n, pct ? HH_RATIO_DIGITS - 2 : HH_RATIO_DIGITS, 0,
                        out);
}
