/*
 * progress.c — the in-place progress line (see progress.h).
 */
#include "app/progress.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#define FIRST_DRAW_NS 1000000000LL   /* show nothing during the first second */
#define REDRAW_NS     250000000LL    /* at most four redraws a second */

struct hh_progress {
    FILE *out;                 /* borrowed */
    char label[64];
    uint64_t total;            /* input bytes, 0 when unknown */
    bool enabled;
    bool drawn;                /* a line is on screen */
    unsigned calls;            /* updates since the last clock read */
    int64_t start, last;       /* monotonic ns: creation, last redraw */
    size_t width;              /* length of the last line drawn */
};

static int64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

struct hh_progress *hh_progress_new(FILE *out, const char *label, uint64_t total,
                                    bool enabled)
{
    struct hh_progress *p = calloc(1, sizeof *p);

    if (!p)
        return NULL;
    p->out = out;
    snprintf(p->label, sizeof p->label, "%s", label);
    p->total = total;
    p->enabled = enabled && out;
    p->start = p->last = now_ns();
    return p;
}

/* Format a count with a k/M/G suffix. */
static void human(char *buf, size_t cap, double v)
{
    if (v >= 1e9)
        snprintf(buf, cap, "%.2fG", v / 1e9);
    else if (v >= 1e6)
        snprintf(buf, cap, "%.2fM", v / 1e6);
    else if (v >= 1e3)
        snprintf(buf, cap, "%.1fk", v / 1e3);
    else
        snprintf(buf, cap, "%.0f", v);
}

/* Draw the line for `rows`/`bytes` at time t. */
static void draw(struct hh_progress *p, uint64_t rows, uint64_t bytes, int64_t t)
{
    double secs = (double)(t - p->start) / 1e9;
    char line[160], r[32], rate[32];
    size_t n;

    human(r, sizeof r, (double)rows);
    human(rate, sizeof rate, secs > 0 ? (double)rows / secs : 0);
    n = (size_t)snprintf(line, sizeof line, "%s: %s rows, %s rows/s", p->label, r, rate);
    if (p->total && bytes <= p->total && n < sizeof line) {
        double frac = (double)bytes / (double)p->total;
        double eta = frac > 0 ? secs * (1 - frac) / frac : 0;

        n += (size_t)snprintf(line + n, sizeof line - n, ", %.0f%%, ETA %.0fs",
                              frac * 100, eta);
    }
    if (n >= sizeof line)
        n = sizeof line - 1;
    fprintf(p->out, "\r%s", line);
    for (size_t i = n; i < p->width; i++)   /* erase the rest of a longer line */
        fputc(' ', p->out);
    fflush(p->out);
    p->width = n;
    p->drawn = true;
}

void hh_progress_update(struct hh_progress *p, uint64_t rows, uint64_t bytes)
{
    int64_t t;

    if (!p || !p->enabled || ++p->calls < HH_PROGRESS_EVERY)
        return;
    p->calls = 0;
    t = now_ns();
    if (t - p->start < FIRST_DRAW_NS || t - p->last < REDRAW_NS)
        return;
    p->last = t;
    draw(p, rows, bytes, t);
}

void hh_progress_done(struct hh_progress *p)
{
    if (!p || !p->drawn)
        return;
    fprintf(p->out, "\r%*s\r", (int)p->width, "");
    fflush(p->out);
    p->drawn = false;
    p->width = 0;
}

void hh_progress_free(struct hh_progress *p)
{
    free(p);
}
