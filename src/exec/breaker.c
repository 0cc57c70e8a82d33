/*
 * breaker.c — the circuit breaker (see breaker.h).
 *
 * The failure window is a ring of the times of the last cfg.failures
 * failures recorded in CLOSED: it opens when the ring is full and its
 * oldest entry is less than `window` before the newest.  The ring is
 * emptied on every transition to CLOSED.
 *
 * Invariants: state == OPEN iff opened_at is the time of the last opening
 * and no transition happened since; probe_out only in HALF_OPEN.
 */
#include "exec/breaker.h"

#include "core/err.h"

#include <stdlib.h>

const char *hh_breaker_state_name(enum hh_breaker_state s)
{
    switch (s) {
    case HH_BRK_CLOSED:
        return "CLOSED";
    case HH_BRK_OPEN:
        return "OPEN";
    case HH_BRK_HALF_OPEN:
        return "HALF_OPEN";
    }
    return "?";
}

int hh_breaker_init(struct hh_breaker *b, const struct hh_breaker_config *cfg,
                    hh_breaker_fn fn, void *ctx)
{
    if (cfg->failures < 1 || cfg->window <= 0 || cfg->cool_off < 0)
        return HH_EINVAL;
    *b = (struct hh_breaker){ .cfg = *cfg, .state = HH_BRK_CLOSED, .fn = fn, .ctx = ctx };
    b->ring = calloc((size_t)cfg->failures, sizeof *b->ring);
    return b->ring ? HH_OK : HH_ENOMEM;
}

void hh_breaker_free(struct hh_breaker *b)
{
    if (!b)
        return;
    free(b->ring);
    b->ring = NULL;
}

static void go(struct hh_breaker *b, enum hh_breaker_state to, hh_time_t now,
               const char *why)
{
    struct hh_breaker_transition t = {
        .from = b->state, .to = to, .at = now,
        .failures = to == HH_BRK_OPEN && b->state == HH_BRK_CLOSED ? b->nring : 0,
        .alert = to == HH_BRK_OPEN, .why = why,
    };

    b->state = to;
    b->probe_out = false;
    if (to == HH_BRK_OPEN) {
        b->opened_at = now;
        b->opens++;
    }
    if (to == HH_BRK_CLOSED)
        b->nring = b->head = 0;
    if (b->fn)
        b->fn(b->ctx, &t);
}

void hh_breaker_tick(struct hh_breaker *b, hh_time_t now)
{
    if (b->state == HH_BRK_OPEN && now - b->opened_at >= b->cfg.cool_off)
        go(b, HH_BRK_HALF_OPEN, now, "cool-off elapsed");
}

hh_time_t hh_breaker_next(const struct hh_breaker *b)
{
    if (b->state != HH_BRK_OPEN)
        return HH_TIME_MAX;
    return b->opened_at > HH_TIME_MAX - b->cfg.cool_off ? HH_TIME_MAX
                                                        : b->opened_at + b->cfg.cool_off;
}

int hh_breaker_allow(struct hh_breaker *b, hh_time_t now)
{
    hh_breaker_tick(b, now);
    switch (b->state) {
    case HH_BRK_CLOSED:
        return HH_OK;
    case HH_BRK_HALF_OPEN:
        if (!b->probe_out) {
            b->probe_out = true;
            return HH_OK;
        }
        break;
    case HH_BRK_OPEN:
        break;
    }
    b->refused++;
    return HH_EUNAVAIL;
}

void hh_breaker_success(struct hh_breaker *b, hh_time_t now)
{
    if (b->state == HH_BRK_HALF_OPEN)
        go(b, HH_BRK_CLOSED, now, "probe succeeded");
}

void hh_breaker_failure(struct hh_breaker *b, hh_time_t now)
{
    int n = b->cfg.failures;

    b->failures_seen++;
    switch (b->state) {
    case HH_BRK_OPEN:
        return;
    case HH_BRK_HALF_OPEN:
        go(b, HH_BRK_OPEN, now, "probe failed");
        return;
    case HH_BRK_CLOSED:
        break;
    }
    if (b->nring < n) {
        b->ring[(b->head + b->nring) % n] = now;
        b->nring++;
    } else {
        b->ring[b->head] = now;          /* overwrite the oldest */
        b->head = (b->head + 1) % n;
    }
    /* A time earlier than the newest (out-of-order outcomes) only makes
     * the window look longer: conservative for opening. */
    if (b->nring == n && now - b->ring[b->head] < b->cfg.window)
        go(b, HH_BRK_OPEN, now, "failures within the window");
}

void hh_breaker_record(struct hh_breaker *b, hh_time_t now, int rc)
{
    if (rc == HH_EAUTH)
        hh_breaker_trip(b, now);
    else if (rc == HH_EUNAVAIL || rc == HH_ETIMEOUT)
        hh_breaker_failure(b, now);
    else
        hh_breaker_success(b, now);
}

void hh_breaker_trip(struct hh_breaker *b, hh_time_t now)
{
    b->failures_seen++;
    if (b->state != HH_BRK_OPEN)
        go(b, HH_BRK_OPEN, now, "the broker refused our credentials");
}
