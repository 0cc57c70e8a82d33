/*
 * feed.h — inputs that reach the core from outside, each read on a thread
 * of its own and handed over through a bounded ring (DESIGN: adapters on
 * threads, queues, a single-threaded core): a followed signals file or
 * stdin (line feed), a replayed market-data file (replay feed).
 *
 * The threads do no engine work and touch no engine state.  A full ring
 * blocks its producer (back-pressure, never a drop).  Every feed shares one
 * hub: its mutex guards the rings and its condition wakes the core, whose
 * event loop waits there when no source can tell what comes next
 * (engine/loop.h PENDING).
 *
 * Line feed (tail -F).  A regular file is followed: lines appended later
 * are read; a file truncated or replaced (another inode under the path) is
 * read again from its first line, announced by a ROTATED item.  On a
 * restart the feed resumes after line `resume_line` only if the file's
 * first line hashes to `resume_first` and it has that many lines;
 * otherwise it is a new file, read from line 1, announced by a NEW_FILE
 * item.  stdin is read as it comes.  Every line is an item, blank ones too
 * (the core skips them, SPEC §5a, and still counts them consumed).
 *
 * Replay feed.  A ticks or bars file streamed as its rows (each row's index
 * among accepted rows travels with it, so the core can record where it
 * is): rows before `skip_rows` go out as WARM items (a restored engine
 * rebuilds its candle builder from them; bars it already processed are not
 * sent at all), the row `half_row` (when set) as HALF; with speed > 0 the replay is paced by the data's timestamps and
 * sends CLOCK items every 50 ms between rows so engine time moves.  A file
 * whose first data row does not hash to `resume_first` is a new file: no
 * row is skipped (NEW_FILE item first).  A file truncated or replaced
 * (another inode under the path) while it is read — looked at every 50 ms
 * while paced, every 256 rows, and at its end — is read again from its
 * first row, announced by a ROTATED item; bars rotate only between two
 * instants.  The end of the file ends the replay: rows appended after it
 * are not read (market data ends the run).
 */
#ifndef HH_FEED_H
#define HH_FEED_H

#include "core/err.h"
#include "core/instrument.h"
#include "core/model.h"
#include "market/mdfile.h"

#include <stdbool.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

struct hh_feed_hub;

struct hh_feed_hub *hh_feed_hub_new(void);
/* Frees the hub; every feed using it must be stopped and freed first. */
void hh_feed_hub_free(struct hh_feed_hub *h);   /* accepts NULL */

/* The core: wait until a feed pushed, something woke the hub, or max_ns
 * passed (< 0: no limit). */
void hh_feed_hub_wait(struct hh_feed_hub *h, int64_t max_ns);
/* Any thread: wake the core. */
void hh_feed_hub_wake(struct hh_feed_hub *h);
/* A counter every hh_feed_hub_wake moves, after what the waker delivered:
 * the bell (loop.h) of an event-loop source whose thread wakes the core
 * that way (the API's commands). */
const atomic_uint *hh_feed_hub_bell(const struct hh_feed_hub *h);

/* The 64-bit FNV-1a hash of a line's bytes (a file's identity: its first line). */
uint64_t hh_feed_hash(const char *s, size_t n);

/* ---- line feed ------------------------------------------------------------------ */

enum hh_feed_line_kind {
    HH_FEED_LINE,        /* a line (text NULL when longer than max_line) */
    HH_FEED_ROTATED,     /* the file was truncated or replaced: lines restart at 1 */
    HH_FEED_NEW_FILE,    /* resumed on a file that is not the one recorded */
};

struct hh_feed_line {
    enum hh_feed_line_kind kind;
    uint64_t lineno;             /* physical line in the current file */
    uint64_t first;              /* hash of the current file's first line */
    char *text;                  /* malloc'd, NUL-terminated; the core frees it */
    size_t len;
};

struct hh_feed_lines_opts {
    const char *path;            /* "-": stdin */
    uint64_t resume_line;        /* lines consumed before a restart (0: none) */
    uint64_t resume_first;       /* hash of the first line they came from */
    size_t max_line;             /* longer lines: text NULL (0: 1 MiB) */
};

enum hh_feed_state {
    HH_FEED_READING,             /* more may be on its way right now */
    HH_FEED_IDLE,                /* everything there is was pushed (following) */
    HH_FEED_ENDED,               /* nothing more, ever (stdin closed, read error) */
};

struct hh_feed_lines;

/* Open the input (exit-2 material on failure: HH_EIO naming it) and start
 * the thread. */
int hh_feed_lines_start(struct hh_feed_hub *h, const struct hh_feed_lines_opts *o,
                        struct hh_feed_lines **out, struct hh_diag *d);
/* The core: the next item (1), or 0 when none is queued; *state (may be
 * NULL) says whether more may come. */
int hh_feed_lines_pop(struct hh_feed_lines *f, struct hh_feed_line *out,
                      enum hh_feed_state *state);
bool hh_feed_lines_following(const struct hh_feed_lines *f);   /* a regular file */
/* Stop the thread and free the feed (queued texts too).  A stdin reader
 * stuck in a line that never ends is left to the process's exit. */
void hh_feed_lines_stop(struct hh_feed_lines *f);   /* accepts NULL */

/* ---- replay feed ---------------------------------------------------------------- */

enum hh_feed_md_kind {
    HH_FEED_TICK,        /* a tick for the engine */
    HH_FEED_BAR,         /* a bar; `last` says it ends its group (one instant) */
    HH_FEED_WARM,        /* a tick a restored engine already processed */
    HH_FEED_HALF,        /* a tick whose candles a restored engine already judged */
    HH_FEED_CLOCK,       /* speed > 0: engine time moves to t without a row */
    HH_FEED_MD_NEW_FILE, /* the file is not the one recorded: nothing skipped */
    HH_FEED_MD_ROTATED,  /* the file was truncated or replaced: rows restart at 0 */
    HH_FEED_MD_END,      /* no more rows (rc: 0, or the read error) */
};

struct hh_feed_md {
    enum hh_feed_md_kind kind;
    uint64_t row;                /* index among accepted rows */
    hh_time_t t;                 /* the row's time (CLOCK: engine time) */
    struct hh_tick tick;
    struct hh_bar bar;
    bool last;                   /* BAR: the last of its instant */
    uint64_t first;              /* NEW_FILE, ROTATED: hash of the file's first data row */
    int rc;                      /* END */
};

struct hh_feed_replay_opts {
    const char *path;
    enum hh_md_kind kind;
    const struct hh_instruments *inst;   /* every symbol already interned: read only */
    double speed;                /* 0: as fast as the core takes; 1: real time */
    uint64_t skip_rows;          /* rows a restored engine processed */
    uint64_t half_row;           /* ticks: that row is half processed (UINT64_MAX: none) */
    uint64_t resume_first;       /* hash of the recorded file's first data row (0: any) */
};

struct hh_feed_replay;

int hh_feed_replay_start(struct hh_feed_hub *h, const struct hh_feed_replay_opts *o,
                         struct hh_feed_replay **out);
/* The core: the next item (1), or 0 when none is queued yet (no lock taken). */
int hh_feed_replay_pop(struct hh_feed_replay *f, struct hh_feed_md *out);
/* The time of the last row pushed, or HH_TIME_NONE before the first. */
hh_time_t hh_feed_replay_last(struct hh_feed_replay *f);
/* A lower bound of the next item's time: the last row's, or the last clock
 * item's when later (a paced replay's engine time moves between rows: what
 * waits for the market data waits no longer than that). */
hh_time_t hh_feed_replay_bound(struct hh_feed_replay *f);
void hh_feed_replay_stop(struct hh_feed_replay *f);   /* accepts NULL */

/* The hash of a data file's first data row (after the header), for the
 * cursor: 0 when it has none or cannot be read. */
uint64_t hh_feed_first_row(const char *path);

#endif
