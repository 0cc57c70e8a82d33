/*
 * kite_lim.c — the pacer of an account's calls (kite_int.h).
 *
 * The broker counts calls by the time it receives them, which we never see;
 * we know only that call i was received after we sent it and before its
 * answer came back.  Two rules, on the monotonic clock, make "at most N
 * calls in any second at the broker" hold whatever the network and the
 * scheduler do:
 *   1. a call starts no sooner than 1 s + 1 ms after the call N before it
 *      ended (its answer, or its failure, came): the broker received that
 *      one before it ended, and receives this one after it starts, so the
 *      two — and everything between — are more than a second apart;
 *   2. starts are at least 1/N s apart: a burst is spread evenly (100 calls
 *      at N = 10 take 9.9 s), not sent as 10 at once, then nothing.
 * With a minute's limit M, rule 1 holds for it too: a call starts no sooner
 * than 60 s + 1 ms after the call M before it ended.
 * A 429 pushes the next start out (backoff).  Calls start in the order they
 * asked (tickets); each reserves its start under the mutex and sleeps
 * outside it.
 *
 * Shared by processes (hh_kite__lim_share), the state lives in a file
 * mapped by each of them and a reservation holds the file's lock too (the
 * mutex first, then the lock, always).  Rule 1 then needs the call N before
 * — whichever process made it — to have ended: a process killed during a
 * call never says so, so a call whose process is gone, or that is in
 * flight beyond its own timeout, counts as ended when that is noticed (the
 * broker received it before then).  The monotonic clock is the machine's
 * since boot: a file written in another boot starts afresh.
 */
#include "broker/kite_int.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define IN_FLIGHT INT64_MAX
#define GAP       (HH_NS_PER_S + HH_NS_PER_MS)   /* rule 1 */
#define MINUTE    (60 * HH_NS_PER_S + HH_NS_PER_MS)
#define RING      ((uint64_t)HH_KITE__LIM_MAX)
#define POLL_NS   (2 * HH_NS_PER_MS)             /* waiting on another process */
#define MAGIC     UINT64_C(0x6868706163653031)   /* "hhpace01" */

/* The shared file: which boot wrote it, then the pacers. */
struct pace_file {
    uint64_t magic;
    char boot[40];
    struct hh_kite__pace pace[2];
};

int64_t hh_kite__mono_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * HH_NS_PER_S + ts.tv_nsec;
}

static int64_t mono_now(void *ctx)
{
    (void)ctx;
    return hh_kite__mono_ns();
}

static void mono_sleep(void *ctx, int64_t ns)
{
    struct timespec ts = { (time_t)(ns / HH_NS_PER_S), (long)(ns % HH_NS_PER_S) };

    (void)ctx;
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

int hh_kite__lim_init(struct hh_kite__lim *l, int per_second, int per_minute,
                      int64_t max_call)
{
    memset(l, 0, sizeof *l);
    l->fd = -1;
    if (per_second < 1 || per_second > HH_KITE__LIM_MAX || max_call <= 0 ||
        (per_minute && (per_minute < per_second || per_minute > HH_KITE__LIM_MAX)))
        return HH_EINVAL;
    if (pthread_mutex_init(&l->mu, NULL))
        return HH_ENOMEM;
    if (pthread_cond_init(&l->cv, NULL)) {
        pthread_mutex_destroy(&l->mu);
        return HH_ENOMEM;
    }
    /* last: a pacer with its state is one to destroy */
    if (!(l->pace = calloc(1, sizeof *l->pace))) {
        pthread_cond_destroy(&l->cv);
        pthread_mutex_destroy(&l->mu);
        return HH_ENOMEM;
    }
    l->n = l->pace->n = per_second;
    l->m = l->pace->m = per_minute;
    l->interval = HH_NS_PER_S / per_second;
    l->max_call = max_call;
    l->pid = (int32_t)getpid();
    l->now = mono_now;
    l->sleep = mono_sleep;
    return HH_OK;
}

static void file_lock(const struct hh_kite__lim *l, int op)
{
    if (l->fd >= 0)
        while (flock(l->fd, op) != 0 && errno == EINTR)
            ;
}

/* This boot's id ("?" where /proc does not say). */
static void boot_id(char *out, size_t cap)
{
    FILE *f = fopen("/proc/sys/kernel/random/boot_id", "re");

    if (!f || !fgets(out, (int)cap, f))
        snprintf(out, cap, "?");
    if (f)
        fclose(f);
}

/* Under the file's lock: a file of another boot, size or layout is
 * started afresh, and so is a pacer of other rates. */
static void adopt_file(struct pace_file *f, int region, int n, int m)
{
    char boot[sizeof f->boot] = "";

    boot_id(boot, sizeof boot);
    if (f->magic != MAGIC || memcmp(f->boot, boot, sizeof boot) != 0) {
        memset(f, 0, sizeof *f);
        f->magic = MAGIC;
        memcpy(f->boot, boot, sizeof boot);
    }
    if (f->pace[region].n != n || f->pace[region].m != m) {
        memset(&f->pace[region], 0, sizeof f->pace[region]);
        f->pace[region].n = n;
        f->pace[region].m = m;
    }
}

int hh_kite__lim_share(struct hh_kite__lim *l, const char *path, int region,
                       struct hh_diag *d)
{
    void *map = MAP_FAILED;
    struct stat st;
    int fd;

    if (region < 0 || region > 1)
        return hh_diag_set(d, HH_EINVAL, "%s: no pacer %d", path, region);
    fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        return hh_diag_set(d, HH_ECONFIG, "%s: %s", path, strerror(errno));
    while (flock(fd, LOCK_EX) != 0 && errno == EINTR)
        ;
    if (fstat(fd, &st) == 0 &&
        (st.st_size == sizeof(struct pace_file) || ftruncate(fd, sizeof(struct pace_file)) == 0))
        map = mmap(NULL, sizeof(struct pace_file), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (map == MAP_FAILED) {
        int e = errno;

        close(fd);
        return hh_diag_set(d, HH_ECONFIG, "%s: %s", path, strerror(e));
    }
    adopt_file(map, region, l->n, l->m);
    flock(fd, LOCK_UN);
    free(l->pace);
    l->pace = &((struct pace_file *)map)->pace[region];
    l->map = map;
    l->fd = fd;
    return HH_OK;
}

void hh_kite__lim_destroy(struct hh_kite__lim *l)
{
    if (!l->pace)
        return;
    pthread_cond_destroy(&l->cv);
    pthread_mutex_destroy(&l->mu);
    if (l->map) {
        munmap(l->map, sizeof(struct pace_file));
        close(l->fd);
    } else {
        free(l->pace);
    }
    l->pace = NULL;
    l->map = NULL;
    l->fd = -1;
}

/* The call in flight in s may be counted as ended now: its process is gone,
 * or it has outlived its timeout.  Under the file's lock. */
static bool settled(const struct hh_kite__lim *l, struct hh_kite__slot *s, int64_t now)
{
    bool gone = s->pid != l->pid && kill(s->pid, 0) != 0 && errno == ESRCH;

    if (!gone && now <= s->until)
        return false;
    s->end = now;
    return true;
}

/* Wait a little for a call in flight to end: this process's calls wake the
 * condition when they end, another process's are polled. */
static void wait_in_flight(struct hh_kite__lim *l)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_nsec += POLL_NS;
    if (ts.tv_nsec >= HH_NS_PER_S) {
        ts.tv_sec++;
        ts.tv_nsec -= HH_NS_PER_S;
    }
    pthread_cond_timedwait(&l->cv, &l->mu, &ts);
}

/* The earliest start the call `back` calls before the next one allows,
 * `span` after it ended (0 when there is none); false while it is in
 * flight.  Under the file's lock. */
static bool after_call(const struct hh_kite__lim *l, int back, int64_t span, int64_t now,
                       int64_t *at)
{
    struct hh_kite__pace *p = l->pace;
    struct hh_kite__slot *s;

    *at = 0;
    if (!back || p->seq < (uint64_t)back)
        return true;
    s = &p->slot[(p->seq - (uint64_t)back) % RING];
    if (s->end == IN_FLIGHT && !settled(l, s, now))
        return false;
    *at = s->end + span;
    return true;
}

/* Under the mutex, on this process's turn: reserve the next start, or
 * return false when the call N (or M) before is still in flight. */
static bool reserve(struct hh_kite__lim *l, int64_t *now, int64_t *at, uint64_t *seq)
{
    struct hh_kite__pace *p = l->pace;
    int64_t sec, min;

    file_lock(l, LOCK_EX);
    *now = l->now(l->ctx);
    if (!after_call(l, l->n, GAP, *now, &sec) || !after_call(l, l->m, MINUTE, *now, &min)) {
        file_lock(l, LOCK_UN);
        return false;
    }
    *at = p->next > *now ? p->next : *now;
    *at = sec > *at ? sec : *at;
    *at = min > *at ? min : *at;
    p->next = *at + l->interval;
    p->slot[p->seq % RING] = (struct hh_kite__slot){ IN_FLIGHT, *at + l->max_call, p->seq,
                                                     l->pid, 0 };
    *seq = p->seq++;
    file_lock(l, LOCK_UN);
    return true;
}

uint64_t hh_kite__lim_acquire(struct hh_kite__lim *l, int64_t *start)
{
    uint64_t t, seq;
    int64_t now, at;

    pthread_mutex_lock(&l->mu);
    t = l->tickets++;
    while (l->turn != t)
        pthread_cond_wait(&l->cv, &l->mu);
    while (!reserve(l, &now, &at, &seq))
        wait_in_flight(l);
    l->turn++;
    pthread_cond_broadcast(&l->cv);
    pthread_mutex_unlock(&l->mu);
    if (at > now)
        l->sleep(l->ctx, at - now);
    if (start)
        *start = at;
    return seq;
}

void hh_kite__lim_release(struct hh_kite__lim *l, uint64_t ticket)
{
    struct hh_kite__slot *s;

    pthread_mutex_lock(&l->mu);
    file_lock(l, LOCK_EX);
    s = &l->pace->slot[ticket % RING];
    /* unless it was counted as ended already and the slot taken since */
    if (s->end == IN_FLIGHT && s->seq == ticket && s->pid == l->pid)
        s->end = l->now(l->ctx);
    file_lock(l, LOCK_UN);
    pthread_cond_broadcast(&l->cv);
    pthread_mutex_unlock(&l->mu);
}

void hh_kite__lim_backoff(struct hh_kite__lim *l, int64_t pause)
{
    int64_t until;

    pthread_mutex_lock(&l->mu);
    file_lock(l, LOCK_EX);
    until = l->now(l->ctx) + pause;
    if (l->pace->next < until)
        l->pace->next = until;
    file_lock(l, LOCK_UN);
    pthread_mutex_unlock(&l->mu);
}
