/*
 * daily.h — the end-of-day report (SPEC §12 report.dir, issue 13 item 8;
 * the seeds' "End of Day Report"), made from a hedgehog database alone.
 *
 * A day is an IST date: [00:00, 24:00) IST.  What falls in it:
 *   signals    lines decided that day (signals.decided_at, else
 *              received_at): received, accepted, rejected by reason — the
 *              validation rejections of those lines plus the entry-time
 *              (RISK_REJECTED) rejections that happened that day, as
 *              summary.json counts them (accepted = received - rejected)
 *   trades     closed that day (exit time): wins (net > 0), losses
 *              (net < 0), win rate, gross and net P&L, charges, and the
 *              day's max drawdown — the largest fall of the cumulative net
 *              P&L from its peak, in closing order, starting at 0
 *   orders     created that day: failed (REJECTED: refused by the broker
 *              or not placed), emergency hedges (the multi-leg groups'
 *              hedge orders), and two latencies in engine time: placement
 *              to the broker's acknowledgement (ACK reports: runs only) and
 *              placement to the first fill of MARKET orders
 *   latency    signal processing: the runner's measured wall-clock time
 *              from receiving a line to its decision (signals.latency_ns;
 *              not recorded by backtests nor by runs that do not measure)
 *   audit      that day's engine time: breaker openings (BREAKER to OPEN),
 *              reconciliation divergences, operator alerts, kill-switch
 *              events
 * A figure with no sample is null in the JSON, "not recorded" in the page.
 * Money is exact: integers in 1/10,000 rupee, printed with two decimals as
 * summary.json does.  The report depends on the database only (no clock):
 * the same database gives the same bytes.
 */
#ifndef HH_DAILY_H
#define HH_DAILY_H

#include "core/err.h"
#include "core/fixed.h"
#include "core/time.h"
#include "store/store.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define HH_DAILY_REASONS_MAX 64        /* distinct rejection reasons kept */
#define HH_DAILY_REASON_LEN 48

/* A latency's samples and figures (ns). */
struct hh_daily_latency {
    uint64_t n;                        /* samples; 0: not recorded */
    int64_t avg, p99;                  /* mean (truncated), 99th percentile
                                          (nearest rank) */
    int64_t *v;                        /* the samples (owned; freed by
                                          hh_daily_free) */
    size_t cap;
};

/* A kill-switch event of the day (a KILL_SWITCH audit row). */
struct hh_daily_kill {
    hh_time_t at;                      /* engine time (wall clock for
                                          `hedgehog kill` with no engine) */
    char action[16], state[16];
    char reason[HH_STORE_KILL_REASON_MAX + 1];
    char by[HH_STORE_KILL_BY_MAX + 1];
    bool applied;
};

/* A closed trade of the day (for the page's table). */
struct hh_daily_trade {
    uint32_t trade_id;
    char signal_id[64], symbol[64], exit_reason[16];
    bool sell;
    int64_t qty;
    hh_time_t entry_ts, exit_ts;
    hh_price_t entry_price, exit_price;
    hh_money_t gross, charges, net;
};

/* The report of one day. */
struct hh_daily {
    char date[11];                     /* YYYY-MM-DD, IST */
    hh_time_t from, to;                /* [from, to): the day, ns UTC */

    uint64_t received, accepted, rejected;
    int nreasons;
    struct {
        char name[HH_DAILY_REASON_LEN];
        uint64_t n;
    } reason[HH_DAILY_REASONS_MAX];    /* rejections by reason, by name */

    uint64_t trades, wins, losses;
    hh_money_t gross, charges, net, max_drawdown;

    uint64_t orders, failed_orders, hedges;
    struct hh_daily_latency signal_ms, ack_ms, market_fill_ms;

    uint64_t breaker_openings, divergences, alerts;
    struct hh_daily_kill *kills;       /* owned */
    size_t nkills, capkills;
    struct hh_daily_trade *list;       /* owned, closing order */
    size_t nlist, caplist;
};

/*
 * Compute the report of `date` (YYYY-MM-DD) from reader r (one read
 * snapshot: consistent while an engine writes).  *out is owned by the
 * caller: hh_daily_free().  HH_EINVAL (a malformed date, d says so), the
 * reader's errors, HH_ENOMEM.
 */
int hh_daily_compute(struct hh_store_reader *r, const char *date, struct hh_daily *out,
                     struct hh_diag *d);

/* Free what *r owns; accepts NULL. */
void hh_daily_free(struct hh_daily *r);

/* The report as JSON text (keys in docs/OPERATIONS.md "The daily
 * report"): malloc'd, NUL-terminated, the caller frees.  HH_ENOMEM. */
int hh_daily_json(const struct hh_daily *r, char **out, size_t *len);

/* The report as one self-contained HTML page (no script, no outside
 * resource) onto f.  HH_EIO on a write error. */
int hh_daily_html(const struct hh_daily *r, FILE *f);

/*
 * The engine's call at each session's end, and `hedgehog report`'s: open
 * the database at db_path read-only (a writer may hold it), compute the
 * report of `date`, and write dir/DATE.json and dir/DATE.html (dir created
 * when missing; each file written to a temporary name and renamed, so a
 * reader never sees half of one).  *json (may be NULL) receives the JSON
 * text (malloc'd; for hh_api_publish_report).  HH_EINVAL (date), HH_EIO
 * (writing), the reader's errors; d names the file.
 */
int hh_daily_write(const char *db_path, const char *date, const char *dir, char **json,
                   struct hh_diag *d);

#endif
