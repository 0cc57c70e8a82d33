/*
 * run_feed.c — the adapters of `hedgehog run` on their own threads: the
 * market-data replay and the signal source, each feeding the core through
 * a bounded ring of struct run_hub (run.h).
 *
 * Market data.  The reader opens the ticks file and streams it: rows the
 * restored engine already processed (the first `skip_rows` accepted rows)
 * go out as WARM items (the core rebuilds its candle builder from them),
 * the rest as TICK items.  With --speed X > 0 the replay is paced by the
 * data's timestamps — a tick stamped d after the first one leaves d / X
 * after the replay started — and while waiting it sends CLOCK items every
 * 50 ms so engine time (and its timers) moves between ticks.  --speed 0
 * sends as fast as the core takes them.
 *
 * Signals.  A regular file is followed (tail -f: lines appended later are
 * picked up); lines up to `skip_lines` were consumed before a restart and
 * are skipped; blank lines are not received.  Each line goes out with its
 * key (received_at, else ts) read from its text, so the core can take it
 * in time order.  Whenever the reader has pushed everything the file holds
 * it says so (sig_caught_up): the core never runs market data beyond a
 * signal it has not seen yet — what makes a replay at --speed 0 exact.
 * stdin is read as it comes (sig_live: never waited for).
 *
 * The reader threads do no engine work and touch no engine state; the
 * instrument table is only read (every symbol of the ticks file was
 * interned by the core before the threads started).
 */
#include "app/run.h"

#include "core/lines.h"
#include "signal/signal.h"

#include <errno.h>
#include <json-c/json.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- the hub -------------------------------------------------------------------- */

int run_hub_init(struct run_hub *h)
{
    memset(h, 0, sizeof *h);
    if (pthread_mutex_init(&h->mu, NULL))
        return HH_ENOMEM;
    if (pthread_cond_init(&h->core, NULL)) {
        pthread_mutex_destroy(&h->mu);
        return HH_ENOMEM;
    }
    if (pthread_cond_init(&h->space, NULL)) {
        pthread_cond_destroy(&h->core);
        pthread_mutex_destroy(&h->mu);
        return HH_ENOMEM;
    }
    return HH_OK;
}

void run_hub_destroy(struct run_hub *h)
{
    while (h->sig_n) {
        free(h->sig[h->sig_head].text);
        h->sig_head = (h->sig_head + 1) % RUN_SIG_RING;
        h->sig_n--;
    }
    pthread_cond_destroy(&h->space);
    pthread_cond_destroy(&h->core);
    pthread_mutex_destroy(&h->mu);
}

void run_hub_stop(struct run_hub *h)
{
    pthread_mutex_lock(&h->mu);
    h->stop = true;
    pthread_cond_broadcast(&h->space);
    pthread_cond_broadcast(&h->core);
    pthread_mutex_unlock(&h->mu);
}

/* Push an md item; waits for room.  false when asked to stop. */
static bool md_push(struct run_hub *h, const struct run_md_item *it)
{
    bool ok;

    pthread_mutex_lock(&h->mu);
    while (!h->stop && h->md_n == RUN_MD_RING)
        pthread_cond_wait(&h->space, &h->mu);
    ok = !h->stop;
    if (ok) {
        h->md[(h->md_head + h->md_n) % RUN_MD_RING] = *it;
        h->md_n++;
        pthread_cond_signal(&h->core);
    }
    pthread_mutex_unlock(&h->mu);
    return ok;
}

static bool sig_push(struct run_hub *h, const struct run_sig_item *it)
{
    bool ok;

    pthread_mutex_lock(&h->mu);
    while (!h->stop && h->sig_n == RUN_SIG_RING)
        pthread_cond_wait(&h->space, &h->mu);
    ok = !h->stop;
    if (ok) {
        h->sig[(h->sig_head + h->sig_n) % RUN_SIG_RING] = *it;
        h->sig_n++;
        h->sig_caught_up = false;
        pthread_cond_signal(&h->core);
    }
    pthread_mutex_unlock(&h->mu);
    return ok;
}

static void sig_state(struct run_hub *h, bool caught_up, bool done)
{
    pthread_mutex_lock(&h->mu);
    h->sig_caught_up = caught_up;
    h->sig_done = h->sig_done || done;
    pthread_cond_signal(&h->core);
    pthread_mutex_unlock(&h->mu);
}

static bool stopped(struct run_hub *h)
{
    bool s;

    pthread_mutex_lock(&h->mu);
    s = h->stop;
    pthread_mutex_unlock(&h->mu);
    return s;
}

/* ---- time at the edge --------------------------------------------------------------- */

static int64_t mono_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * HH_NS_PER_S + ts.tv_nsec;
}

static void sleep_ns(int64_t ns)
{
    struct timespec ts = { (time_t)(ns / HH_NS_PER_S), (long)(ns % HH_NS_PER_S) };

    while (nanosleep(&ts, &ts) && errno == EINTR)
        ;
}

/* ---- market data ---------------------------------------------------------------------- */

#define CLOCK_EVERY (50 * HH_NS_PER_MS)

static void *md_main(void *arg)
{
    struct run_feed *f = arg;
    struct hh_md_reader *md = NULL;
    struct run_md_item it;
    struct hh_diag d;
    struct hh_tick t;
    uint64_t row = 0;
    int64_t w0 = 0;
    hh_time_t t0 = HH_TIME_NONE, last_clock = HH_TIME_NONE;
    int rc;

    /* symbols are all interned already: the reader never writes the table */
    rc = hh_md_open(&md, f->ticks, HH_MD_TICKS, (struct hh_instruments *)f->inst, NULL, &d);
    while (md && (rc = hh_md_next_tick(md, &t)) == 1) {
        memset(&it, 0, sizeof it);
        it.row = row;
        it.t = t.ts;
        it.tick = t;
        if (row++ < f->skip_rows) {
            it.kind = RUN_MD_WARM;
            if (!md_push(f->hub, &it))
                break;
            continue;
        }
        it.kind = f->half && it.row == f->skip_rows ? RUN_MD_HALF : RUN_MD_TICK;
        if (f->speed > 0) {
            int64_t target;

            if (t0 == HH_TIME_NONE) {
                t0 = t.ts;
                w0 = mono_ns();
            }
            target = w0 + (int64_t)((double)(t.ts - t0) / f->speed);
            for (;;) {
                int64_t now = mono_ns(), wait = target - now;
                struct run_md_item c;

                if (wait <= 0 || stopped(f->hub))
                    break;
                sleep_ns(wait < CLOCK_EVERY ? wait : CLOCK_EVERY);
                memset(&c, 0, sizeof c);
                c.kind = RUN_MD_CLOCK;
                c.t = t0 + (int64_t)((double)(mono_ns() - w0) * f->speed);
                if (c.t >= t.ts)
                    break;
                if (c.t > last_clock) {
                    last_clock = c.t;
                    if (!md_push(f->hub, &c))
                        break;
                }
            }
        }
        if (!md_push(f->hub, &it))
            break;
    }
    memset(&it, 0, sizeof it);
    it.kind = RUN_MD_END;
    it.rc = rc < 0 ? rc : HH_OK;
    md_push(f->hub, &it);
    hh_md_close(md);
    return NULL;
}

/* ---- signals ----------------------------------------------------------------------------- */

hh_time_t run_line_key(const char *line, size_t len)
{
    struct json_tokener *tok = json_tokener_new();
    struct json_object *o, *v;
    hh_time_t key = INT64_MIN;

    if (!tok)
        return key;
    o = json_tokener_parse_ex(tok, line, (int)len);
    if (o && json_object_is_type(o, json_type_object)) {
        static const char *const keys[] = { "received_at", "ts" };

        for (int k = 0; k < 2; k++) {
            hh_time_t t;

            if (json_object_object_get_ex(o, keys[k], &v) &&
                json_object_is_type(v, json_type_string) &&
                hh_time_parse(json_object_get_string(v), (size_t)json_object_get_string_len(v),
                              &t, NULL) == HH_OK) {
                key = t;
                break;
            }
        }
    }
    json_object_put(o);
    json_tokener_free(tok);
    return key;
}

/* A pipe (stdin): wait until a line is buffered or data arrives, waking
 * every 100 ms to see whether the run is stopping.  false: stop. */
static bool wait_input(struct run_feed *f)
{
    struct pollfd pfd = { hh_lines_fd(f->lines), POLLIN, 0 };

    while (!hh_lines_pending(f->lines)) {
        if (stopped(f->hub))
            return false;
        if (poll(&pfd, 1, 100) > 0)
            return true;   /* data, end of input or an error: read() will tell */
    }
    return true;
}

static void *sig_main(void *arg)
{
    struct run_feed *f = arg;
    const char *line;
    size_t len;

    for (;;) {
        int rc;

        if (stopped(f->hub) || (!f->follow && !wait_input(f)))
            break;
        rc = hh_lines_next(f->lines, &line, &len);
        if (rc == 1 || rc == HH_EFULL) {
            struct run_sig_item it;
            uint64_t n = hh_lines_lineno(f->lines);

            if (n <= f->skip_lines || (rc == 1 && hh_sig_line_blank(line, len)))
                continue;
            memset(&it, 0, sizeof it);
            it.lineno = n;
            it.key = INT64_MIN;
            if (rc == 1) {
                it.text = malloc(len + 1);
                if (!it.text) {
                    sig_state(f->hub, true, true);
                    break;
                }
                memcpy(it.text, line, len);
                it.text[len] = '\0';
                it.len = len;
                it.key = run_line_key(line, len);
            }
            if (!sig_push(f->hub, &it)) {
                free(it.text);
                break;
            }
            continue;
        }
        if (rc == 0 && f->follow) {
            sig_state(f->hub, true, false);
            sleep_ns(20 * HH_NS_PER_MS);
            continue;
        }
        sig_state(f->hub, true, true);   /* end of stdin, or a read error */
        break;
    }
    return NULL;
}

int run_feed_start(struct run_feed *f)
{
    if (pthread_create(&f->md_thread, NULL, md_main, f))
        return HH_ENOMEM;
    f->md_started = true;
    if (f->lines) {
        if (pthread_create(&f->sig_thread, NULL, sig_main, f))
            return HH_ENOMEM;
        f->sig_started = true;
    }
    return HH_OK;
}

void run_feed_stop(struct run_feed *f)
{
    run_hub_stop(f->hub);
    if (f->md_started)
        pthread_join(f->md_thread, NULL);
    f->md_started = false;
    if (f->sig_started) {
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += 1;
        if (f->follow || pthread_timedjoin_np(f->sig_thread, NULL, &ts) == 0) {
            if (f->follow)
                pthread_join(f->sig_thread, NULL);
            f->sig_started = false;
        } else {
            /* stdin in the middle of a line that never ends: the reader sits
             * in read(); the process's exit ends it (run_feed_parked) */
            pthread_detach(f->sig_thread);
        }
    }
}

uint64_t run_path_id(const char *path)
{
    uint64_t h = 0xcbf29ce484222325ULL;

    if (!path || !strcmp(path, "-"))
        return 0;
    for (const char *p = path; *p; p++)
        h = (h ^ (unsigned char)*p) * 0x100000001b3ULL;
    return h ? h : 1;
}
