/*
 * feed.c — the hub, and the line feed: a followed signals file (tail -F) or
 * stdin on a thread of its own (contract in feed.h).
 *
 * Invariants: a queued item's text belongs to the ring until popped, then
 * to the core; lines (blank ones too: the core skips them, SPEC §5a) reach
 * the ring in file order, each once per reading of
 * the file (a rotation starts a new reading, announced first); a line a
 * restart already consumed is skipped only when the file is the one
 * recorded (same first line, at least that many lines).
 */
#include "feed/feed_int.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* ---- the hub ---------------------------------------------------------------------- */

struct hh_feed_hub *hh_feed_hub_new(void)
{
    struct hh_feed_hub *h = calloc(1, sizeof *h);

    if (!h)
        return NULL;
    if (pthread_mutex_init(&h->mu, NULL)) {
        free(h);
        return NULL;
    }
    if (pthread_cond_init(&h->core, NULL)) {
        pthread_mutex_destroy(&h->mu);
        free(h);
        return NULL;
    }
    if (pthread_cond_init(&h->space, NULL)) {
        pthread_cond_destroy(&h->core);
        pthread_mutex_destroy(&h->mu);
        free(h);
        return NULL;
    }
    return h;
}

void hh_feed_hub_free(struct hh_feed_hub *h)
{
    if (!h || h->parked)
        return;   /* a parked reader may still use it: the process's exit frees it */
    pthread_cond_destroy(&h->space);
    pthread_cond_destroy(&h->core);
    pthread_mutex_destroy(&h->mu);
    free(h);
}

/* The core announces its sleep (sleeping, then woken read, both sequentially
 * consistent) so that a lazy waker either is seen or sees it; the wake it
 * took is cleared and the fence after makes what that waker published
 * visible to the core's next look at its queues. */
void hh_feed_hub_wait(struct hh_feed_hub *h, int64_t max_ns)
{
    pthread_mutex_lock(&h->mu);
    atomic_store(&h->sleeping, true);
    if (!atomic_load(&h->woken)) {
        if (max_ns < 0) {
            pthread_cond_wait(&h->core, &h->mu);
        } else {
            struct timespec ts;
            int64_t ns;

            clock_gettime(CLOCK_REALTIME, &ts);
            ns = ts.tv_nsec + max_ns % HH_NS_PER_S;
            ts.tv_sec += (time_t)(max_ns / HH_NS_PER_S + ns / HH_NS_PER_S);
            ts.tv_nsec = (long)(ns % HH_NS_PER_S);
            pthread_cond_timedwait(&h->core, &h->mu, &ts);
        }
    }
    atomic_store(&h->sleeping, false);
    atomic_store(&h->woken, false);
    atomic_thread_fence(memory_order_seq_cst);
    pthread_mutex_unlock(&h->mu);
}

/* Under the hub's lock. */
void hh_feed__wake_locked(struct hh_feed_hub *h)
{
    atomic_store(&h->woken, true);
    pthread_cond_signal(&h->core);
}

void hh_feed__wake_lazy(struct hh_feed_hub *h)
{
    atomic_thread_fence(memory_order_seq_cst);   /* the item published before the looks */
    if (!atomic_load_explicit(&h->woken, memory_order_relaxed))
        atomic_store(&h->woken, true);
    if (!atomic_load(&h->sleeping))
        return;
    pthread_mutex_lock(&h->mu);
    pthread_cond_signal(&h->core);
    pthread_mutex_unlock(&h->mu);
}

void hh_feed_hub_wake(struct hh_feed_hub *h)
{
    pthread_mutex_lock(&h->mu);
    atomic_fetch_add_explicit(&h->bell, 1, memory_order_release);
    hh_feed__wake_locked(h);
    pthread_mutex_unlock(&h->mu);
}

const atomic_uint *hh_feed_hub_bell(const struct hh_feed_hub *h)
{
    return &h->bell;
}

uint64_t hh_feed_hash(const char *s, size_t n)
{
    uint64_t x = 0xcbf29ce484222325ULL;

    for (size_t i = 0; i < n; i++)
        x = (x ^ (unsigned char)s[i]) * 0x100000001b3ULL;
    return x ? x : 1;
}

int64_t hh_feed__mono_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * HH_NS_PER_S + ts.tv_nsec;
}

void hh_feed__sleep_ns(int64_t ns)
{
    struct timespec ts = { (time_t)(ns / HH_NS_PER_S), (long)(ns % HH_NS_PER_S) };

    while (nanosleep(&ts, &ts) && errno == EINTR)
        ;
}

/* ---- the line feed ----------------------------------------------------------------- */

#define LINE_RING 256
#define IDLE_POLL (20 * HH_NS_PER_MS)
#define FIRST_PEEK 4096            /* bytes read to compare a file's first line */

struct hh_feed_lines {
    struct hh_feed_hub *hub;
    struct hh_feed_lines_opts o;
    char path[1024];
    struct hh_lines *lines;
    bool follow;                   /* a regular file */
    dev_t dev;                     /* the file being read */
    ino_t ino;
    uint64_t first;                /* hash of its first line (0 before it) */
    pthread_t thread;
    bool started;
    enum hh_feed_state state;      /* under hub->mu */
    struct hh_feed_line slots[LINE_RING];
    struct hh_feed__ring ring;     /* over slots, under hub->mu */
};

/* Push an item; waits for room.  false when asked to stop. */
static bool push(struct hh_feed_lines *f, const struct hh_feed_line *it)
{
    struct hh_feed_hub *h = f->hub;
    bool ok;

    pthread_mutex_lock(&h->mu);
    ok = hh_feed__ring_push(h, &f->ring, it);
    if (ok)
        f->state = HH_FEED_READING;
    pthread_mutex_unlock(&h->mu);
    return ok;
}

static void set_state(struct hh_feed_lines *f, enum hh_feed_state st)
{
    pthread_mutex_lock(&f->hub->mu);
    if (f->state != HH_FEED_ENDED)
        f->state = st;
    hh_feed__wake_locked(f->hub);
    pthread_mutex_unlock(&f->hub->mu);
}

static bool push_marker(struct hh_feed_lines *f, enum hh_feed_line_kind kind)
{
    struct hh_feed_line it = { .kind = kind };

    return push(f, &it);
}

/* Open the path (again): a regular file is followed. */
static int open_input(struct hh_feed_lines *f, struct hh_diag *d)
{
    struct stat st;
    int rc;

    hh_lines_close(f->lines);
    f->lines = NULL;
    f->first = 0;
    if (!strcmp(f->path, "-"))
        rc = hh_lines_fdopen(&f->lines, STDIN_FILENO, false, "stdin", f->o.max_line, d);
    else
        rc = hh_lines_open(&f->lines, f->path, f->o.max_line, d);
    if (rc)
        return rc;
    f->follow = fstat(hh_lines_fd(f->lines), &st) == 0 && S_ISREG(st.st_mode);
    f->dev = st.st_dev;
    f->ino = st.st_ino;
    hh_lines_set_follow(f->lines, f->follow);
    return HH_OK;
}

/* Does the file being read still start with the line it started with?
 * A file truncated and written again longer between two looks has the
 * same inode and no shorter size: its first line tells.  Unknown (no
 * complete first line yet, or a longer one than FIRST_PEEK): yes. */
static bool same_first_line(struct hh_feed_lines *f)
{
    char buf[FIRST_PEEK];
    ssize_t n;
    char *nl;
    size_t len;

    if (!f->first)
        return true;
    n = pread(hh_lines_fd(f->lines), buf, sizeof buf, 0);
    if (n <= 0 || !(nl = memchr(buf, '\n', (size_t)n)))
        return n != 0;   /* empty now: truncated */
    len = (size_t)(nl - buf);
    if (len > 0 && buf[len - 1] == '\r')
        len--;            /* as the line reader hands it out */
    return hh_feed_hash(buf, len) == f->first;
}

/* Is the path still the file being read, as long as it was, with the same
 * first line? */
static bool same_file(struct hh_feed_lines *f)
{
    struct stat st;

    if (stat(f->path, &st) != 0)
        return true;   /* gone for a moment (a rename in progress): keep reading */
    if (st.st_dev != f->dev || st.st_ino != f->ino)
        return false;  /* replaced */
    if ((uint64_t)st.st_size < hh_lines_offset(f->lines))
        return false;  /* truncated */
    return same_first_line(f);
}

/*
 * On a restart: skip the lines consumed before it, if this is the file they
 * came from (first line hashes alike, at least that many lines); otherwise
 * read it from line 1 as a new file.  Returns false when asked to stop.
 */
static bool resume(struct hh_feed_lines *f)
{
    const char *line;
    size_t len;
    uint64_t n = 0, want = f->o.resume_line;
    struct hh_diag d;

    if (!want || !f->follow)
        return true;
    hh_lines_set_follow(f->lines, false);
    while (n < want) {
        int rc = hh_lines_next(f->lines, &line, &len);

        if (rc == 0 || (rc < 0 && rc != HH_EFULL))
            break;
        if (++n == 1)
            f->first = rc == 1 ? hh_feed_hash(line, len) : 0;
        if (n == 1 && f->first != f->o.resume_first)
            break;
    }
    if (n == want && f->first == f->o.resume_first) {
        hh_lines_set_follow(f->lines, true);
        return true;
    }
    if (open_input(f, &d))
        return false;
    return push_marker(f, HH_FEED_NEW_FILE);
}

static bool push_line(struct hh_feed_lines *f, int rc, const char *line, size_t len)
{
    struct hh_feed_line it = { .kind = HH_FEED_LINE };

    it.lineno = hh_lines_lineno(f->lines);
    if (it.lineno == 1)
        f->first = rc == 1 ? hh_feed_hash(line, len) : 0;
    it.first = f->first;
    if (rc == 1) {
        it.text = malloc(len + 1);
        if (!it.text)
            return false;
        memcpy(it.text, line, len);
        it.text[len] = '\0';
        it.len = len;
    }
    if (!push(f, &it)) {
        free(it.text);
        return false;
    }
    return true;
}

/* stdin: wait until a line is buffered or data arrives, waking every
 * 100 ms to see whether the feed is stopping.  false: stop. */
static bool wait_input(struct hh_feed_lines *f)
{
    struct pollfd pfd = { hh_lines_fd(f->lines), POLLIN, 0 };

    while (!hh_lines_pending(f->lines)) {
        if (hh_feed__ring_stopping(f->hub, &f->ring))
            return false;
        if (poll(&pfd, 1, 100) > 0)
            return true;   /* data, end of input or an error: read() will tell */
    }
    return true;
}

static void *lines_main(void *arg)
{
    struct hh_feed_lines *f = arg;
    struct hh_diag d;
    const char *line;
    size_t len;

    if (!resume(f)) {
        set_state(f, HH_FEED_ENDED);
        return NULL;
    }
    for (;;) {
        int rc;

        if (hh_feed__ring_stopping(f->hub, &f->ring) || (!f->follow && !wait_input(f)))
            break;
        rc = hh_lines_next(f->lines, &line, &len);
        if (rc == 1 || rc == HH_EFULL) {
            if (!push_line(f, rc, line, len))
                break;
            continue;
        }
        if (rc == 0 && f->follow) {
            /* caught up: wait, then look at the path before reading on —
             * what was written meanwhile may belong to another file */
            set_state(f, HH_FEED_IDLE);
            hh_feed__sleep_ns(IDLE_POLL);
            if (!same_file(f) && (open_input(f, &d) || !push_marker(f, HH_FEED_ROTATED)))
                break;
            continue;
        }
        break;   /* end of stdin, or a read error */
    }
    pthread_mutex_lock(&f->hub->mu);
    f->state = HH_FEED_ENDED;
    hh_feed__wake_locked(f->hub);
    pthread_mutex_unlock(&f->hub->mu);
    return NULL;
}

int hh_feed_lines_start(struct hh_feed_hub *h, const struct hh_feed_lines_opts *o,
                        struct hh_feed_lines **out, struct hh_diag *d)
{
    struct hh_feed_lines *f = calloc(1, sizeof *f);
    int rc;

    *out = NULL;
    if (!f)
        return hh_diag_set(d, HH_ENOMEM, "out of memory");
    f->hub = h;
    hh_feed__ring_init(&f->ring, f->slots, sizeof f->slots[0], LINE_RING);
    f->o = *o;
    f->o.max_line = o->max_line ? o->max_line : HH_LINES_DEFAULT_MAX;
    snprintf(f->path, sizeof f->path, "%s", o->path);
    f->state = HH_FEED_READING;
    if ((rc = open_input(f, d))) {
        free(f);
        return rc;
    }
    if (pthread_create(&f->thread, NULL, lines_main, f)) {
        hh_lines_close(f->lines);
        free(f);
        return hh_diag_set(d, HH_ENOMEM, "cannot start the signal reader thread");
    }
    f->started = true;
    *out = f;
    return HH_OK;
}

int hh_feed_lines_pop(struct hh_feed_lines *f, struct hh_feed_line *out,
                      enum hh_feed_state *state)
{
    int got;

    pthread_mutex_lock(&f->hub->mu);
    got = hh_feed__ring_pop(f->hub, &f->ring, out);
    if (state)
        *state = f->ring.n ? HH_FEED_READING : f->state;
    pthread_mutex_unlock(&f->hub->mu);
    return got;
}

bool hh_feed_lines_following(const struct hh_feed_lines *f)
{
    return f->follow;
}

/* A stdin reader blocked in read() inside a line that never ends: the
 * process's exit ends it; its feed stays reachable until then. */
static struct hh_feed_lines *volatile parked;

void hh_feed_lines_stop(struct hh_feed_lines *f)
{
    struct hh_feed_line left;
    struct timespec ts;

    if (!f)
        return;
    hh_feed__ring_stop(f->hub, &f->ring);
    if (f->started) {
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += 1;
        if (f->follow) {
            pthread_join(f->thread, NULL);
        } else if (pthread_timedjoin_np(f->thread, NULL, &ts) != 0) {
            pthread_detach(f->thread);
            parked = f;
            f->hub->parked = true;
            return;
        }
    }
    while (hh_feed__ring_pop(f->hub, &f->ring, &left))
        free(left.text);
    hh_lines_close(f->lines);
    free(f);
}
