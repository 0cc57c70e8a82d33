/*
 * run.h — what the files of `hedgehog run` share (cmd_run.c, run_feed.c,
 * run_shadow.c); nothing else includes it.
 *
 * Threads (DESIGN.md "adapters on threads, queues, a single-threaded core"):
 *
 *   market-data replay ──▶ md ring  ─┐
 *   (run_feed.c; paced by --speed)   ├──▶ core thread (cmd_run.c): clock,
 *   signal source ───────▶ sig ring ─┘    candles, trade manager, paper
 *   (run_feed.c; follows the file)        broker, store submissions
 *                                             │
 *                                             ▼
 *                                   store writer thread (src/store)
 *
 * Both rings are bounded and share one mutex (struct run_hub): a producer
 * finding its ring full waits (back-pressure, never a drop); the core waits
 * on one condition for either ring.  Items are copied in and out; a signal
 * line's text is malloc'd by the reader and freed by the core.
 */
#ifndef HH_APP_RUN_H
#define HH_APP_RUN_H

#include "app/jlog.h"
#include "broker/paper.h"
#include "core/instrument.h"
#include "core/lines.h"
#include "market/mdfile.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

/* ---- the hub: two bounded rings, one lock ---------------------------------- */

enum run_md_kind {
    RUN_MD_TICK,       /* a tick for the engine (row: its index among accepted rows) */
    RUN_MD_WARM,       /* a tick the restored engine already processed: the candle
                          builder only (its state is rebuilt, not the engine's) */
    RUN_MD_HALF,       /* a tick whose candles and selection the restored engine
                          already processed (a checkpoint taken in its middle):
                          the candle builder, then the engine's tick only */
    RUN_MD_CLOCK,      /* --speed > 0: engine time moved to t without a tick */
    RUN_MD_END,        /* no more market data (rc: 0, or the read error) */
};

struct run_md_item {
    enum run_md_kind kind;
    uint64_t row;
    hh_time_t t;                   /* CLOCK: engine time; TICK/WARM: tick.ts */
    struct hh_tick tick;
    int rc;                        /* END */
};

struct run_sig_item {
    uint64_t lineno;               /* physical line in the source */
    hh_time_t key;                 /* received_at, else ts, from the text;
                                      INT64_MIN when it has neither (taken at once) */
    char *text;                    /* malloc'd; NULL: the line was too long */
    size_t len;
};

#define RUN_MD_RING 4096
#define RUN_SIG_RING 256

struct run_hub {
    pthread_mutex_t mu;
    pthread_cond_t core;           /* the core waits for items */
    pthread_cond_t space;          /* producers wait for room */
    struct run_md_item md[RUN_MD_RING];
    size_t md_head, md_n;
    struct run_sig_item sig[RUN_SIG_RING];
    size_t sig_head, sig_n;
    bool sig_caught_up;            /* the reader has pushed all there is for now */
    bool sig_live;                 /* stdin: never waited for (no replay order) */
    bool sig_done;                 /* the reader ended (EOF of stdin, error) */
    bool stop;                     /* producers: stop now */
};

int run_hub_init(struct run_hub *h);
void run_hub_destroy(struct run_hub *h);   /* frees queued signal texts */

/* Ask the producers to stop (they return from their pushes and end). */
void run_hub_stop(struct run_hub *h);

/* ---- the adapters ----------------------------------------------------------- */

struct run_feed {
    struct run_hub *hub;
    /* market data */
    const char *ticks;             /* path */
    const struct hh_instruments *inst;   /* every symbol already interned: read only */
    double speed;                  /* 0: as fast as possible; 1: real time */
    uint64_t skip_rows;            /* rows the restored engine processed: WARM */
    bool half;                     /* row skip_rows is half processed: HALF */
    pthread_t md_thread;
    bool md_started;
    /* signals */
    struct hh_lines *lines;        /* NULL: no signal source */
    bool follow;                   /* a regular file: new lines are picked up */
    uint64_t skip_lines;           /* lines consumed before the restart */
    pthread_t sig_thread;
    bool sig_started;
};

/* Start the threads (the md reader opens `ticks` itself).  HH_OK or an errno-
 * style failure (HH_ENOMEM). */
int run_feed_start(struct run_feed *f);

/* Stop and join them.  A stdin reader stuck in the middle of a line that
 * never ends is detached and left to the process's exit: f->sig_started
 * stays true, and its hub and reader must then not be freed. */
void run_feed_stop(struct run_feed *f);

/* The key of a signal line (received_at, else ts); INT64_MIN when none. */
hh_time_t run_line_key(const char *line, size_t len);

/* ---- shadow mode: a broker that sends nothing -------------------------------- */

/*
 * The shadow broker records the orders it would place and sends nothing:
 * it keeps an order book (the paper broker with matching switched off: no
 * market data reaches it, so nothing ever fills) so that cancellations,
 * queries and reconciliation behave, and calls `on_order` for each order
 * it accepts (the run logs and audits it).  `p` is borrowed.
 */
struct run_shadow {
    struct hh_paper *p;
    struct hh_broker inner;
    struct hh_broker_ops ops;
    void (*on_order)(void *ctx, const struct hh_order_req *req, uint64_t order_id);
    void *ctx;
};

struct hh_broker run_shadow_broker(struct run_shadow *s, struct hh_paper *p);

/* ---- the cursor words (struct hh_tm_cursor) ---------------------------------- */

enum {
    RUN_CUR_ROWS,                  /* market rows processed by the engine */
    RUN_CUR_TICKS_ID,              /* hash of the ticks path they came from */
    RUN_CUR_LINE,                  /* last signal line consumed */
    RUN_CUR_SIGNALS_ID,            /* hash of the signals path (0: stdin) */
    RUN_CUR_RECEIVED,              /* signal lines received, over the runs */
    RUN_CUR_HALF,                  /* 1: row RUN_CUR_ROWS is half processed (its
                                      candles and selection are in the state, the
                                      tick itself is not) */
};

uint64_t run_path_id(const char *path);

#endif
