/*
 * common.c — option parsing, world loading and output files shared by the
 * subcommands.  This is the edge: it does I/O and reads the wall clock.
 */
#include "app/common.h"

#include "app/cmd.h"
#include "core/grow.h"
#include "market/mdfile.h"

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
        rc = hh_config_read(config_path, &w->config_text, &w->config_len, d);
        if (!rc)
            rc = hh_config_parse(&w->cfg, config_path, w->config_text, w->config_len, true, d);
        if (rc) {
            hh_world_free(w);
            return rc;
        }
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
    free(w->config_text);
    w->inst = NULL;
    w->cal = NULL;
    w->config_text = NULL;
}

/* The smallest positive gap between two bars of one symbol in the file
 * (0: none), last[] holding each symbol's latest start. */
static int bars_period(struct hh_md_reader *md, int64_t *period)
{
    hh_time_t *last = NULL;
    size_t cap = 0;
    struct hh_bar b;
    int rc;

    *period = 0;
    while ((rc = hh_md_next_bar(md, &b)) == 1) {
        size_t had = cap;

        if (b.iid >= cap) {
            if (hh_grow(&last, &cap, (size_t)b.iid + 1, sizeof *last)) {
                rc = HH_ENOMEM;
                break;
            }
            for (size_t i = had; i < cap; i++)
                last[i] = HH_TIME_NONE;
        }
        if (last[b.iid] != HH_TIME_NONE && b.ts > last[b.iid] &&
            (!*period || b.ts - last[b.iid] < *period))
            *period = b.ts - last[b.iid];
        last[b.iid] = b.ts;
    }
    free(last);
    return rc;
}

/* "5m", "1h", "90s": a period for a message. */
static void period_text(int64_t ns, char *buf, size_t cap)
{
    if (ns % HH_NS_PER_HOUR == 0)
        snprintf(buf, cap, "%lldh", (long long)(ns / HH_NS_PER_HOUR));
    else if (ns % HH_NS_PER_MIN == 0)
        snprintf(buf, cap, "%lldm", (long long)(ns / HH_NS_PER_MIN));
    else
        snprintf(buf, cap, "%llds", (long long)(ns / HH_NS_PER_S));
}

int hh_app_check_timeframe(const struct hh_config *c, const char *bars,
                           struct hh_instruments *inst, struct hh_diag *d)
{
    struct hh_md_reader *md = NULL;
    char have[32], want[32];
    int64_t period;
    int rc;

    if ((rc = hh_md_open(&md, bars, HH_MD_BARS, inst, NULL, d)))
        return rc;
    rc = bars_period(md, &period);
    hh_md_close(md);
    if (rc < 0)
        return hh_diag_set(d, rc, "%s: %s", bars, hh_strerror(rc));
    if (!period || period == c->entry.timeframe)
        return HH_OK;
    period_text(period, have, sizeof have);
    period_text(c->entry.timeframe, want, sizeof want);
    return hh_diag_set(d, HH_ECONFIG, "%s: the bars come every %s, but entry.timeframe is %s "
                       "(%s): they must be equal (set entry.timeframe: %s)", bars, have, want,
                       c->path[0] ? c->path : "the default", have);
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
