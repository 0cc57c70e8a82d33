/*
 * run.h — what the files of `hedgehog run` share (cmd_run.c: setup, the
 * sources of the event loop, shutdown; run_db.c: the database's owner,
 * capital and configuration history; run_events.c: what the engine says,
 * as logs, audit rows and output files).  Nothing else includes it.
 *
 *   replay feed (thread) ──┐
 *   line feed (thread) ────┼──▶ the one event loop (engine/loop.h) on the
 *   poll timer, startup ───┤    core's thread: the engine, the paper or
 *   the engine's own ──────┘    shadow broker, the journal's steps
 *                                       │
 *                                       ▼
 *                              store writer thread (src/store)
 */
#ifndef HH_APP_RUN_H
#define HH_APP_RUN_H

#include "app/common.h"
#include "app/jlog.h"
#include "journal/journal.h"
#include "broker/paper.h"
#include "broker/shadow.h"
#include "engine/engine.h"
#include "core/jsonout.h"
#include "feed/feed.h"
#include "out/out.h"
#include "signal/group.h"

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

/* The cursor words (struct hh_tm_cursor): where each input resumes. */
enum {
    RUN_CUR_ROWS,                  /* market rows processed by the engine */
    RUN_CUR_MD_FIRST,              /* hash of the market file's first data row */
    RUN_CUR_LINE,                  /* last signal line consumed */
    RUN_CUR_SIG_FIRST,             /* hash of the signals file's first line (0: stdin) */
    RUN_CUR_RECEIVED,              /* signal lines received, over the runs */
    RUN_CUR_HALF,                  /* 1: tick RUN_CUR_ROWS is half processed (its
                                      candles and selection are in the state, the
                                      tick itself is not) */
};

/* The key that comes before every other (an input taken as soon as it is
 * there), and the one after every other (a source holding nothing back). */
static const struct hh_ev_key KEY_FIRST = { HH_TIME_NONE, HH_EV_SIGNAL, 0 };
static const struct hh_ev_key KEY_LAST = { HH_TIME_MAX, HH_EV_MARKET, UINT64_MAX };

struct run_kafka;
struct run_live;

struct run {
    const char *config, *mode, *ticks, *bars, *speed_s, *signals, *db_path, *db_sync;
    const char *out, *level_s, *clock_start;
    bool shadow;
    double speed;
    struct hh_world w;
    struct hh_diag d;
    struct hh_jlog log;
    char side_path[HH_PATH_MAX + 16];  /* <db>.paper or <db>.shadow */
    /* the core */
    struct hh_clock clock;
    struct hh_paper *paper;
    struct hh_shadow sh;
    struct hh_eng *eng;
    struct hh_tm *tm;                  /* the engine's */
    struct hh_sig_validator *v;
    struct hh_group_signal *g;         /* scratch for a group line */
    struct hh_journal *db;
    struct hh_journal_history hist;    /* what the database's earlier starts recorded */
    struct hh_out *o;                  /* --out, or NULL */
    /* the adapters */
    struct hh_feed_hub *hub;
    struct hh_feed_lines *lines;       /* NULL: no signal file */
    struct run_kafka *kafka;           /* NULL: no Kafka source (run_kafka.c) */
    struct hh_feed_replay *replay;
    struct hh_feed_line line;          /* the line taken next (line_held) */
    bool line_held;
    struct hh_feed_md md;              /* the market item taken next (md_held) */
    bool md_held;
    struct hh_bar *grp;                /* bars of the instant being gathered */
    size_t ngrp, capgrp;
    uint64_t grp_row;                  /* ... the row of the last one */
    bool grp_done;                     /* ... all of them are here */
    bool md_live;                      /* this process took a market event (or a
                                          paced clock): engine time is its own */
    bool md_done;                      /* the market data ended */
    int md_rc;
    struct hh_md_stats mds;            /* of the prescan */
    /* progress */
    struct hh_tm_cursor cur;
    bool startup_done;
    hh_time_t startup_retry;
    hh_time_t next_poll;
    uint64_t last_reports;
    int silent_polls;              /* polls in a row without an order update */
    int silent_missed;             /* changes those polls found */
    bool silent;
    bool failed;                   /* the database failed: exit 1 */
    bool groups;                   /* group signals were accepted */
    struct run_ops *ops;           /* run_ops.c: the API, the kill switch, reports */
    struct run_live *live;         /* run_live.c: Kite (live, or its ticks); NULL: none */
    uint64_t warm_n, past_n, taken, accepted, rejected, polls, divergences;
};

/* run_db.c: the database, refused (exit 2) when it is not this run's
 * (another mode or account, a backtest's); its first start's capital; the
 * configuration's changes since the last start; CONFIG_LOADED. */
int run_open_db(struct run *R);
/* A checkpoint that cannot be restored: say which build wrote it (R->d). */
void run_restore_failed(struct run *R);

/* cmd_run.c: a signal decided by any source, after its records joined the step. */
void run_accepted(struct run *R, struct hh_signal *s, uint64_t lineno);
void run_rejected(struct run *R, const struct hh_sig_reject *rej, uint64_t lineno,
                  const char *corr);

/* run_kafka.c: signals from Kafka (SPEC §14), dead letters and events out. */
int run_kafka_start(struct run *R);              /* exit-2 material in R->d */
extern const struct hh_source_ops run_kafka_ops; /* the loop's Kafka source */
/* An event for the events topic, or NULL when there is none: add members
 * to the returned writer, then run_kafka_event_end() (the outbox row joins
 * the current step: published once it is durable). */
struct hh_json *run_kafka_event(struct run *R, const char *type, const char *symbol,
                                const char *corr, hh_time_t at);
void run_kafka_event_end(struct run *R);
void run_kafka_finish(struct run *R);            /* before the journal's end */
void run_kafka_free(struct run *R);              /* accepts R->kafka NULL */

/* What the operations API will show as the `signals` component. */
struct run_kafka_health {
    bool up;
    char why[256];                 /* when down */
};
void run_kafka_health(struct run *R, struct run_kafka_health *out);

/* run_ops.c: the operator's side — the operations API (SPEC §12), the kill
 * switch (the API's and `hedgehog kill`'s requests), the daily report. */
int run_ops_open(struct run *R);                 /* exit-2 material in R->d */
void run_ops_start(struct run *R);               /* after the startup reconciliation */
extern const struct hh_source_ops run_ops_api_ops;   /* the API's commands */
/* Publish (at most 4 a second), take up kill requests (once a second), the
 * daily report at a session's end; `ending`: the run ends (all of it now). */
void run_ops_tick(struct run *R, bool ending);
bool run_ops_api(const struct run *R);           /* an API is configured */
void run_ops_hup(struct run *R);                 /* SIGHUP: the API's secrets again */
void run_ops_close(struct run *R);               /* accepts R->ops NULL */
/* What the engine says, for the documents and the metrics. */
void run_ops_fill(struct run *R, const struct hh_tm_fill *f);
void run_ops_alert(struct run *R, const char *severity, const char *code, const char *msg);
/* A signal decided (id: an accepted one's, for its signal -> order latency;
 * may be NULL), counted by reason; a rejection at entry after acceptance
 * (SIZE_TOO_SMALL, BROKER_UNAVAILABLE...) is counted again, rejected. */
void run_ops_signal(struct run *R, enum hh_sig_reason reason, const char *id);
/* Wall ns a durability barrier waited for its records' commit. */
void run_ops_commit_latency(struct run *R, int64_t ns);
int64_t run_ops_mono_ns(void);                   /* CLOCK_MONOTONIC, ns */
void run_ops_order(struct run *R, const struct hh_tm_order_event *e);
void run_ops_polled(struct run *R, bool ok, int divergences);

/* run_live.c: Zerodha Kite Connect (SPEC §13) — the broker of --mode live,
 * the ticks of market_data.kind: kite, the live clock (--clock-start). */
int run_live_check(struct run *R);               /* exit-2 material in R->d */
/* The adapter made (secrets read) and started (the account checked, its
 * threads): exit 2, or 1 for HH_EUNAVAIL / HH_ETIMEOUT (out of reach). */
int run_live_open(struct run *R);
/* After the restore: the clock (never back), the subscriptions (exit 2). */
int run_live_start(struct run *R);
/* --mode live: the broker the engine uses (true), else false. */
bool run_live_broker(struct run *R, struct hh_broker *out);
bool run_live_md(const struct run *R);           /* ticks from the Kite socket */
extern const struct hh_source_ops run_live_md_ops;   /* ... as the loop's source */
int64_t run_live_wait(const struct run *R);      /* ns the loop may wait at most */
/* Between events: the token's state, the market data's health (entries
 * held while stale), the subscriptions (what is needed now, both ways). */
void run_live_watch(struct run *R);
bool run_live_md_up(const struct run *R, const char **why);
/* " (wall clock TS)" when Kite is used, else "": a rehearsal's engine time
 * is not the broker's, whose records are in wall time. */
void run_live_wall(const struct run *R, char *buf, size_t cap);
/* A stopping run with Kite as its broker (after hh_tm_stop): wait for the
 * orders in flight (hh_tm_in_flight: look-ups of unknown outcomes, cancels,
 * market orders, hybrid stops) to end, the engine's clock moving with the
 * wall's — at most 15 s, or until *stops says a second signal came; what is
 * left is logged and persisted with the last checkpoint. */
void run_live_settle(struct run *R, const volatile sig_atomic_t *stops);
/* The adapter's counters for the last log line ("" without one). */
void run_live_stats(const struct run *R, char *buf, size_t cap);
void run_live_free(struct run *R);               /* accepts R->live NULL */
/* The broker's net position of iid: the paper broker's, or what the last
 * reconciliation listed at Kite. */
hh_qty_t run_broker_qty(const struct run *R, hh_iid_t iid);

/* run_events.c: the engine's sink (logs, audit, outputs) and the poll. */
void run_sink(struct run *R, struct hh_tm_sink *out);
void run_shadow_order(void *ctx, const struct hh_order_req *req, uint64_t order_id);
void run_poll(struct run *R, bool startup);
void run_commit(struct run *R);
int run_barrier(void *ctx);
void run_fatal_db(struct run *R);
const char *run_sym(const struct run *R, hh_iid_t iid);
void run_log_positions(struct run *R);

#endif
