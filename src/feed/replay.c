/*
 * replay.c — the replay feed: a ticks or bars file streamed to the core by
 * a thread of its own, paced by --speed (contract in feed.h).
 *
 * Invariants: rows reach the ring in file order with their index among
 * accepted rows; a bar carries `last` exactly when the next accepted bar
 * starts later (or the file ends), so the core processes each instant's
 * bars together (SPEC §5a); a rotation is only ever noticed between two
 * instants, never inside one's bars; the END item is the last one, always.
 */
#include "feed/feed_int.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MD_RING 4096
#define PUBLISH_EVERY 32           /* rows written before they are made visible */
#define CLOCK_EVERY (50 * HH_NS_PER_MS)
#define CHECK_EVERY 256            /* rows between two looks at the path (speed 0) */
#define SETTLE_STEP (20 * HH_NS_PER_MS)   /* a rotated file: looks at its size ... */
#define SETTLE_STILL (100 * HH_NS_PER_MS) /* ... until it held still this long */
#define SETTLE_MAX (3 * HH_NS_PER_S)      /* ... or this passed */

/* What the paced wait before a row found. */
enum pace_rc { PACE_GO, PACE_STOP, PACE_ROTATED };

/* A replay loop's end other than the reader's own codes: the path is
 * another file now (read it from its start). */
#define REPLAY_ROTATED 1

struct hh_feed_replay {
    struct hh_feed_hub *hub;
    struct hh_feed_replay_opts o;
    char path[1024];
    pthread_t thread;
    bool started;
    _Atomic hh_time_t last;        /* time of the last row published */
    _Atomic hh_time_t bound;       /* ... or clock item, the later */
    hh_time_t last_written, bound_written;   /* the same, of items written (the thread's) */
    struct hh_feed_md slots[MD_RING];
    struct hh_feed__spsc ring;     /* over slots: the thread pushes, the core pops */
    /* the file being read (the thread's) */
    struct hh_md_reader *md;
    dev_t dev;
    ino_t ino;
    uint64_t unchecked;            /* rows read since the path was last looked at */
    /* pacing (the thread's) */
    int64_t w0;
    hh_time_t t0, last_clock;
};

/* Make the items written visible, then their times (the core reading a
 * bound finds every row before it queued). */
static void publish(struct hh_feed_replay *f)
{
    hh_feed__spsc_publish(f->hub, &f->ring);
    atomic_store_explicit(&f->last, f->last_written, memory_order_release);
    atomic_store_explicit(&f->bound, f->bound_written, memory_order_release);
}

static bool is_row(enum hh_feed_md_kind k)
{
    return k != HH_FEED_CLOCK && k != HH_FEED_MD_END && k != HH_FEED_MD_NEW_FILE &&
           k != HH_FEED_MD_ROTATED;
}

/* Queue an item: rows are published by PUBLISH_EVERY, or before the thread
 * sleeps (flush), anything else at once. */
static bool push(struct hh_feed_replay *f, const struct hh_feed_md *it)
{
    if (!hh_feed__spsc_put(f->hub, &f->ring, it))
        return false;
    if (is_row(it->kind))
        f->last_written = f->bound_written = it->t;
    else if (it->kind == HH_FEED_CLOCK && it->t > f->last_written)
        f->bound_written = it->t;
    if (!is_row(it->kind) || hh_feed__spsc_unpublished(&f->ring) >= PUBLISH_EVERY)
        publish(f);
    return true;
}

/* Before the thread waits: what it wrote is visible. */
static void flush(struct hh_feed_replay *f)
{
    if (hh_feed__spsc_unpublished(&f->ring))
        publish(f);
}

/* Is the path another file now (replaced: another inode), or shorter than
 * what was read of it (truncated)?  A path missing for a moment (a rename
 * in progress) is not: the reading goes on. */
static bool rotated(struct hh_feed_replay *f)
{
    struct stat st;

    f->unchecked = 0;
    if (stat(f->path, &st) != 0)
        return false;
    return st.st_dev != f->dev || st.st_ino != f->ino ||
           (uint64_t)st.st_size < hh_md_offset(f->md);
}

/* Look at the path every CHECK_EVERY rows (a replay flat out sleeps never). */
static bool rotated_by_now(struct hh_feed_replay *f)
{
    return ++f->unchecked >= CHECK_EVERY && rotated(f);
}

/* With speed > 0: wait until the row at t is due on the wall clock,
 * sending CLOCK items every 50 ms meanwhile, and looking at the path each
 * time when `between` (no instant's bars are half sent). */
static enum pace_rc pace(struct hh_feed_replay *f, hh_time_t t, bool between)
{
    int64_t target;

    if (f->o.speed <= 0)
        return PACE_GO;
    if (f->t0 == HH_TIME_NONE) {
        f->t0 = t;
        f->w0 = hh_feed__mono_ns();
    }
    target = f->w0 + (int64_t)((double)(t - f->t0) / f->o.speed);
    for (;;) {
        int64_t wait = target - hh_feed__mono_ns();
        struct hh_feed_md c;

        if (wait <= 0)
            return PACE_GO;
        if (hh_feed__spsc_stopping(&f->ring))
            return PACE_STOP;
        flush(f);
        hh_feed__sleep_ns(wait < CLOCK_EVERY ? wait : CLOCK_EVERY);
        if (between && rotated(f))
            return PACE_ROTATED;
        memset(&c, 0, sizeof c);
        c.kind = HH_FEED_CLOCK;
        c.t = f->t0 + (int64_t)((double)(hh_feed__mono_ns() - f->w0) * f->o.speed);
        if (c.t >= t)
            return PACE_GO;
        if (c.t > f->last_clock) {
            f->last_clock = c.t;
            if (!push(f, &c))
                return PACE_STOP;
        }
    }
}

/* The kind a tick goes out as, given where a restored engine stands. */
static enum hh_feed_md_kind tick_kind(const struct hh_feed_replay *f, uint64_t row)
{
    if (row == f->o.half_row)
        return HH_FEED_HALF;
    return row < f->o.skip_rows ? HH_FEED_WARM : HH_FEED_TICK;
}

/* The rows of the file, from its start; HH_OK also when asked to stop. */
static int replay_ticks(struct hh_feed_replay *f)
{
    struct hh_feed_md it;
    struct hh_tick t;
    uint64_t row = 0;
    int rc;

    while ((rc = hh_md_next_tick(f->md, &t)) == 1) {
        enum pace_rc p = PACE_GO;

        memset(&it, 0, sizeof it);
        it.row = row;
        it.t = t.ts;
        it.tick = t;
        it.kind = tick_kind(f, row++);
        if (it.kind == HH_FEED_TICK)
            p = pace(f, t.ts, true);
        if (p == PACE_ROTATED || (p == PACE_GO && rotated_by_now(f)))
            return REPLAY_ROTATED;
        if (p == PACE_STOP || !push(f, &it))
            return HH_OK;
    }
    return rc == 0 && rotated(f) ? REPLAY_ROTATED : rc;
}

static int replay_bars(struct hh_feed_replay *f)
{
    struct hh_feed_md it;
    struct hh_bar b, next;
    uint64_t row = 0;
    bool between = true;           /* the bar before ended its instant */
    int rc = hh_md_next_bar(f->md, &b);

    while (rc == 1) {
        uint64_t r = row++;
        enum pace_rc p;

        rc = hh_md_next_bar(f->md, &next);
        if (r < f->o.skip_rows) {
            b = next;
            continue;   /* the restored engine has it */
        }
        memset(&it, 0, sizeof it);
        it.kind = HH_FEED_BAR;
        it.row = r;
        it.t = b.ts;
        it.bar = b;
        it.last = rc != 1 || next.ts != b.ts;
        p = pace(f, b.ts, between);
        if (p == PACE_ROTATED || (p == PACE_GO && between && rotated_by_now(f)))
            return REPLAY_ROTATED;
        if (p == PACE_STOP || !push(f, &it))
            return HH_OK;
        between = it.last;
        b = next;
    }
    return rc == 0 && rotated(f) ? REPLAY_ROTATED : rc;
}

/* (Re)open the path, remembering which file it is. */
static int open_md(struct hh_feed_replay *f)
{
    struct stat st;
    struct hh_diag d;

    hh_md_close(f->md);
    f->md = NULL;
    f->unchecked = 0;
    if (stat(f->path, &st) != 0)
        return HH_EIO;
    f->dev = st.st_dev;
    f->ino = st.st_ino;
    /* symbols are all interned already: the reader never writes the table */
    return hh_md_open(&f->md, f->path, f->o.kind, (struct hh_instruments *)f->o.inst, NULL,
                      &d);
}

/* A file found rotated may still be being written (`cat new > path`
 * truncates, then writes): wait, bounded by SETTLE_MAX, until it has bytes
 * and its size has held still for SETTLE_STILL, so that its first row and
 * its end are the new file's — never an empty moment read as the end of
 * the market data. */
static void settle(struct hh_feed_replay *f)
{
    int64_t start = hh_feed__mono_ns(), still_since = start;
    off_t last = -1;

    flush(f);
    while (hh_feed__mono_ns() - start < SETTLE_MAX &&
           !hh_feed__spsc_stopping(&f->ring)) {
        struct stat st;
        off_t size = stat(f->path, &st) == 0 ? st.st_size : -1;

        if (size != last || size <= 0) {
            last = size;
            still_since = hh_feed__mono_ns();
        } else if (hh_feed__mono_ns() - still_since >= SETTLE_STILL) {
            return;
        }
        hh_feed__sleep_ns(SETTLE_STEP);
    }
}

static void push_marker(struct hh_feed_replay *f, enum hh_feed_md_kind kind, uint64_t first)
{
    struct hh_feed_md it;

    memset(&it, 0, sizeof it);
    it.kind = kind;
    it.first = first;
    push(f, &it);
}

static void *replay_main(void *arg)
{
    struct hh_feed_replay *f = arg;
    struct hh_feed_md it;
    uint64_t first = hh_feed_first_row(f->path);
    int rc;

    if (f->o.resume_first && first != f->o.resume_first) {
        f->o.skip_rows = 0;
        f->o.half_row = UINT64_MAX;
        push_marker(f, HH_FEED_MD_NEW_FILE, first);
    }
    while ((rc = open_md(f)) == HH_OK &&
           (rc = f->o.kind == HH_MD_TICKS ? replay_ticks(f) : replay_bars(f)) == REPLAY_ROTATED) {
        /* another file under the path: all of it, from its start, paced
         * from its first row (a new day's file does not wait a night) */
        f->o.skip_rows = 0;
        f->o.half_row = UINT64_MAX;
        f->t0 = HH_TIME_NONE;
        settle(f);
        push_marker(f, HH_FEED_MD_ROTATED, hh_feed_first_row(f->path));
    }
    memset(&it, 0, sizeof it);
    it.kind = HH_FEED_MD_END;
    it.rc = rc < 0 ? rc : HH_OK;
    push(f, &it);
    hh_md_close(f->md);
    f->md = NULL;
    return NULL;
}

int hh_feed_replay_start(struct hh_feed_hub *h, const struct hh_feed_replay_opts *o,
                         struct hh_feed_replay **out)
{
    /* aligned as declared: the ring's indices each on a cache line of their
     * own (calloc's 16 bytes would put them wherever the heap happens to) */
    struct hh_feed_replay *f = aligned_alloc(_Alignof(struct hh_feed_replay), sizeof *f);

    *out = NULL;
    if (!f)
        return HH_ENOMEM;
    memset(f, 0, sizeof *f);
    f->hub = h;
    hh_feed__spsc_init(&f->ring, f->slots, sizeof f->slots[0], MD_RING);
    f->o = *o;
    snprintf(f->path, sizeof f->path, "%s", o->path);
    atomic_init(&f->last, HH_TIME_NONE);
    atomic_init(&f->bound, HH_TIME_NONE);
    f->last_written = f->bound_written = HH_TIME_NONE;
    f->t0 = HH_TIME_NONE;
    f->last_clock = HH_TIME_NONE;
    if (pthread_create(&f->thread, NULL, replay_main, f)) {
        free(f);
        return HH_ENOMEM;
    }
    f->started = true;
    *out = f;
    return HH_OK;
}

int hh_feed_replay_pop(struct hh_feed_replay *f, struct hh_feed_md *out)
{
    return hh_feed__spsc_pop(f->hub, &f->ring, out);
}

hh_time_t hh_feed_replay_last(struct hh_feed_replay *f)
{
    return atomic_load_explicit(&f->last, memory_order_acquire);
}

hh_time_t hh_feed_replay_bound(struct hh_feed_replay *f)
{
    return atomic_load_explicit(&f->bound, memory_order_acquire);
}

void hh_feed_replay_stop(struct hh_feed_replay *f)
{
    if (!f)
        return;
    hh_feed__spsc_stop(f->hub, &f->ring);
    if (f->started)
        pthread_join(f->thread, NULL);
    free(f);
}

uint64_t hh_feed_first_row(const char *path)
{
    FILE *fp = fopen(path, "r");
    char line[HH_MD_MAX_LINE + 2];
    uint64_t h = 0;

    if (!fp)
        return 0;
    if (fgets(line, sizeof line, fp) && fgets(line, sizeof line, fp)) {
        size_t n = strcspn(line, "\r\n");

        h = hh_feed_hash(line, n);
    }
    fclose(fp);
    return h;
}
