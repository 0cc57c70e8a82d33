/*
 * test_kite_lim.c — the call pacer.  On a virtual clock (exact): a burst of
 * 100 at 10/s takes at least 9.9 s and never puts 11 starts in any 1-second
 * window; at 20 a minute as well, no minute holds 21; a slow answer delays
 * the call 10 after it (rule 1: the broker may have received the slow call
 * just before answering it, so at most 10 receipts in any second whatever
 * the delays); a 429 backoff pushes the next start out.  On the real clock with four threads: starts in ticket order,
 * never 11 in a window.  Shared through a file: two processes together keep
 * the one rate; a call whose process was killed in flight is counted as
 * ended when that is seen (not held to its timeout, not forgotten); a file of
 * another rate or boot starts afresh.
 */
#include "testutil.h"

#include "broker/kite_int.h"

#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

/* A virtual clock: sleeping advances it. */
struct vclock {
    int64_t now;
};

static int64_t v_now(void *ctx)
{
    return ((struct vclock *)ctx)->now;
}

static void v_sleep(void *ctx, int64_t ns)
{
    ((struct vclock *)ctx)->now += ns;
}

static void virtual(struct hh_kite__lim *l, struct vclock *c)
{
    l->now = v_now;
    l->sleep = v_sleep;
    l->ctx = c;
}

/* Most of the sorted times t[0..m) in any window [x, x + span). */
static int max_in_span(const int64_t *t, size_t m, int64_t span)
{
    int best = 0;
    size_t j = 0;

    for (size_t i = 0; i < m; i++) {
        while (t[i] - t[j] >= span)
            j++;
        if ((int)(i - j + 1) > best)
            best = (int)(i - j + 1);
    }
    return best;
}

static int max_in_window(const int64_t *t, size_t m)
{
    return max_in_span(t, m, HH_NS_PER_S);
}

static void test_burst_virtual(void **state)
{
    struct hh_kite__lim l;
    struct vclock c = { 5 * HH_NS_PER_S };
    int64_t t[100], start = c.now;

    (void)state;
    assert_int_equal(hh_kite__lim_init(&l, 10, 0, 5 * HH_NS_PER_S), HH_OK);
    virtual(&l, &c);
    for (int i = 0; i < 100; i++) {
        uint64_t k = hh_kite__lim_acquire(&l, &t[i]);

        assert_int_equal(k, (uint64_t)i);
        c.now += HH_NS_PER_MS;          /* a 1 ms round trip */
        hh_kite__lim_release(&l, k);
    }
    assert_true(t[99] - start >= 9900 * HH_NS_PER_MS);
    assert_int_equal(max_in_window(t, 100), 10);
    for (int i = 1; i < 100; i++)
        assert_true(t[i] - t[i - 1] >= HH_NS_PER_S / 10);
    /* even a window closed at both ends holds at most 10 */
    for (int i = 10; i < 100; i++)
        assert_true(t[i] - t[i - 10] > HH_NS_PER_S);
    hh_kite__lim_destroy(&l);
}

/* 10/s and 20 a minute: the 21st call waits for a minute after the 1st
 * ended, and no minute, wherever it falls, holds 21 starts. */
static void test_minute_virtual(void **state)
{
    struct hh_kite__lim l;
    struct vclock c = { 5 * HH_NS_PER_S };
    int64_t t[45];

    (void)state;
    assert_int_equal(hh_kite__lim_init(&l, 10, 20, 5 * HH_NS_PER_S), HH_OK);
    virtual(&l, &c);
    for (int i = 0; i < 45; i++) {
        uint64_t k = hh_kite__lim_acquire(&l, &t[i]);

        c.now += HH_NS_PER_MS;
        hh_kite__lim_release(&l, k);
    }
    assert_true(t[19] - t[0] < 2 * HH_NS_PER_S);           /* 10/s until the 20th */
    assert_true(t[20] > t[0] + 60 * HH_NS_PER_S);
    assert_true(t[40] > t[20] + 60 * HH_NS_PER_S);
    assert_int_equal(max_in_span(t, 45, 60 * HH_NS_PER_S), 20);
    assert_true(max_in_window(t, 45) <= 10);
    hh_kite__lim_destroy(&l);
}

/* Call 0 takes 3 s to answer: the broker may have counted it at any time
 * in those 3 s, so call 10 waits until 1 s after its answer. */
static void test_slow_answer(void **state)
{
    struct hh_kite__lim l;
    struct vclock c = { HH_NS_PER_S };
    int64_t t[11], end0;
    uint64_t k;

    (void)state;
    assert_int_equal(hh_kite__lim_init(&l, 10, 0, 5 * HH_NS_PER_S), HH_OK);
    virtual(&l, &c);
    k = hh_kite__lim_acquire(&l, &t[0]);
    c.now += 3 * HH_NS_PER_S;
    end0 = c.now;
    hh_kite__lim_release(&l, k);
    for (int i = 1; i <= 10; i++)
        hh_kite__lim_release(&l, hh_kite__lim_acquire(&l, &t[i]));
    assert_true(t[1] >= end0);          /* the slow call held the clock */
    assert_true(t[10] > end0 + HH_NS_PER_S);
    hh_kite__lim_destroy(&l);
}

static void test_backoff_virtual(void **state)
{
    struct hh_kite__lim l;
    struct vclock c = { HH_NS_PER_S };
    int64_t a, b, x;

    (void)state;
    assert_int_equal(hh_kite__lim_init(&l, 10, 0, 5 * HH_NS_PER_S), HH_OK);
    virtual(&l, &c);
    hh_kite__lim_release(&l, hh_kite__lim_acquire(&l, &a));
    hh_kite__lim_backoff(&l, 2 * HH_NS_PER_S);       /* a 429 */
    hh_kite__lim_release(&l, hh_kite__lim_acquire(&l, &b));
    assert_true(b - a >= 2 * HH_NS_PER_S);
    /* a backoff shorter than the pacing changes nothing */
    hh_kite__lim_backoff(&l, 1);
    hh_kite__lim_release(&l, hh_kite__lim_acquire(&l, &x));
    assert_true(x - b >= HH_NS_PER_S / 10);
    hh_kite__lim_destroy(&l);
    assert_int_equal(hh_kite__lim_init(&l, 0, 0, HH_NS_PER_S), HH_EINVAL);
    assert_int_equal(hh_kite__lim_init(&l, 10, 9, HH_NS_PER_S), HH_EINVAL);
    hh_kite__lim_destroy(&l);
}

struct racer {
    struct hh_kite__lim *l;
    int64_t *t;
    uint64_t *ticket;
    int n;
};

static void *race(void *arg)
{
    struct racer *r = arg;

    for (int i = 0; i < r->n; i++) {
        r->ticket[i] = hh_kite__lim_acquire(r->l, &r->t[i]);
        hh_kite__lim_release(r->l, r->ticket[i]);
    }
    return NULL;
}

/* Real clock, four threads, 40 calls at 20/s. */
static void test_threads_real(void **state)
{
    struct hh_kite__lim l;
    int64_t t[40], by_ticket[40], start = hh_kite__mono_ns();
    uint64_t tk[40];
    pthread_t th[4];
    struct racer r[4];

    (void)state;
    assert_int_equal(hh_kite__lim_init(&l, 20, 0, 5 * HH_NS_PER_S), HH_OK);
    for (int i = 0; i < 4; i++) {
        r[i] = (struct racer){ &l, t + 10 * i, tk + 10 * i, 10 };
        pthread_create(&th[i], NULL, race, &r[i]);
    }
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    for (int i = 0; i < 40; i++) {
        assert_true(tk[i] < 40);
        by_ticket[tk[i]] = t[i];
    }
    for (int i = 1; i < 40; i++)
        assert_true(by_ticket[i] >= by_ticket[i - 1] + HH_NS_PER_S / 20);
    assert_true(max_in_window(by_ticket, 40) <= 20);
    assert_true(hh_kite__mono_ns() - start >= 39 * HH_NS_PER_S / 20);
    hh_kite__lim_destroy(&l);
}

/* A pacer file in a fresh directory (removed by drop_file). */
static char *pacer_path(void)
{
    static char dir[] = "/tmp/hh_lim_XXXXXX";
    static char path[64];

    assert_non_null(mkdtemp(strcpy(dir, "/tmp/hh_lim_XXXXXX")));
    snprintf(path, sizeof path, "%s/acct.pacer", dir);
    return path;
}

static void drop_file(const char *path)
{
    char dir[64];

    snprintf(dir, sizeof dir, "%s", path);
    *strrchr(dir, '/') = '\0';
    unlink(path);
    rmdir(dir);
}

static void shared(struct hh_kite__lim *l, int n, int64_t max_call, const char *path)
{
    struct hh_diag d = { "" };

    assert_int_equal(hh_kite__lim_init(l, n, 0, max_call), HH_OK);
    assert_int_equal(hh_kite__lim_share(l, path, 0, &d), HH_OK);
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

    return (x > y) - (x < y);
}

/* Two processes, 15 calls each at 20/s through one file: 30 starts, never
 * 21 in a window, 1/20 s apart whoever made them.  Each alone would take
 * 0.7 s; together they take 1.45 s. */
static void test_two_processes_one_rate(void **state)
{
    const char *path = pacer_path();
    int64_t *t = mmap(NULL, 30 * sizeof *t, PROT_READ | PROT_WRITE,
                      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    pid_t kid[2];

    (void)state;
    assert_true(t != MAP_FAILED);
    for (int p = 0; p < 2; p++) {
        if ((kid[p] = fork()) == 0) {
            struct hh_kite__lim l;

            shared(&l, 20, 5 * HH_NS_PER_S, path);
            for (int i = 0; i < 15; i++)
                hh_kite__lim_release(&l, hh_kite__lim_acquire(&l, &t[15 * p + i]));
            hh_kite__lim_destroy(&l);
            _exit(0);
        }
        assert_true(kid[p] > 0);
    }
    for (int p = 0; p < 2; p++) {
        int st;

        assert_int_equal(waitpid(kid[p], &st, 0), kid[p]);
        assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    }
    qsort(t, 30, sizeof *t, cmp_i64);
    assert_true(max_in_window(t, 30) <= 20);
    for (int i = 1; i < 30; i++)
        assert_true(t[i] - t[i - 1] >= HH_NS_PER_S / 20);
    munmap(t, 30 * sizeof *t);
    drop_file(path);
}

/* A process killed during its call (kill -9): the call N after it waits
 * 1 s from when the death is seen, not the dead call's 30 s timeout. */
static void test_killed_in_flight(void **state)
{
    const char *path = pacer_path();
    struct hh_kite__lim l;
    int64_t t1, t2, dead;
    int fds[2], st;
    pid_t kid;
    char c;

    (void)state;
    assert_int_equal(pipe(fds), 0);
    if ((kid = fork()) == 0) {
        struct hh_kite__lim k;

        shared(&k, 2, 30 * HH_NS_PER_S, path);
        hh_kite__lim_acquire(&k, NULL);         /* call 0, never released */
        if (write(fds[1], "x", 1) != 1)
            _exit(1);
        pause();
        _exit(0);
    }
    assert_true(kid > 0);
    assert_int_equal(read(fds[0], &c, 1), 1);
    kill(kid, SIGKILL);
    assert_int_equal(waitpid(kid, &st, 0), kid);
    dead = hh_kite__mono_ns();
    shared(&l, 2, 30 * HH_NS_PER_S, path);
    hh_kite__lim_release(&l, hh_kite__lim_acquire(&l, &t1));     /* call 1 */
    assert_int_equal(hh_kite__lim_acquire(&l, &t2), 2);          /* call 2: N after 0 */
    assert_true(t2 >= dead + HH_NS_PER_S);
    assert_true(hh_kite__mono_ns() - dead < 5 * HH_NS_PER_S);
    hh_kite__lim_destroy(&l);
    close(fds[0]);
    close(fds[1]);
    drop_file(path);
}

/* A restart at another rate, or in another boot, starts the pacer afresh;
 * at the same rate it carries on (the calls before the restart count). */
static void test_file_adopted_or_started_afresh(void **state)
{
    const char *path = pacer_path();
    struct hh_kite__lim l;
    struct vclock c = { 10 * HH_NS_PER_S };
    int64_t t;

    (void)state;
    shared(&l, 10, HH_NS_PER_S, path);
    virtual(&l, &c);
    for (int i = 0; i < 3; i++)
        hh_kite__lim_release(&l, hh_kite__lim_acquire(&l, NULL));
    hh_kite__lim_destroy(&l);
    shared(&l, 10, HH_NS_PER_S, path);          /* a restart */
    virtual(&l, &c);
    assert_int_equal(l.pace->seq, 3);
    hh_kite__lim_release(&l, hh_kite__lim_acquire(&l, &t));
    assert_true(t >= 10 * HH_NS_PER_S + 3 * HH_NS_PER_S / 10);  /* paced after the 3 */
    ((char *)l.map)[8] ^= 1;                    /* the boot id: another boot's file */
    hh_kite__lim_destroy(&l);
    shared(&l, 10, HH_NS_PER_S, path);
    assert_int_equal(l.pace->seq, 0);
    hh_kite__lim_release(&l, hh_kite__lim_acquire(&l, NULL));
    hh_kite__lim_destroy(&l);
    shared(&l, 5, HH_NS_PER_S, path);           /* another rate */
    assert_int_equal(l.pace->seq, 0);
    assert_int_equal(l.pace->n, 5);
    hh_kite__lim_destroy(&l);
    drop_file(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_burst_virtual),
        cmocka_unit_test(test_minute_virtual),
        cmocka_unit_test(test_slow_answer),
        cmocka_unit_test(test_backoff_virtual),
        cmocka_unit_test(test_threads_real),
        cmocka_unit_test(test_two_processes_one_rate),
        cmocka_unit_test(test_killed_in_flight),
        cmocka_unit_test(test_file_adopted_or_started_afresh),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
