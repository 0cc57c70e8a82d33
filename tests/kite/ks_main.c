/*
 * ks_main.c — the local Kite server's options and event loop.
 *
 *   kite_server --instruments FILE... [--ticks FILE] [--tick-ms N] [--port N]
 *               [--api-key K] [--access-token T] [--api-secret S] [--user U]
 *               [--capital RUPEES] [--seed N] [--fault NAME=VALUE]...
 *               [--tls-cert PEM --tls-key PEM] [--port-file FILE]
 *               [--max-seconds N]
 *
 * Instruments: the Zerodha dump (served as GET /instruments), then more
 * files of either format (e.g. our CSV with freeze_qty, enforced).
 * Listens on 127.0.0.1 only (port 0: any free one), prints
 * "kite_server listening 127.0.0.1:PORT" and writes PORT to --port-file once
 * it accepts.  REST and the WebSocket share the port (an Upgrade request
 * becomes the socket).  Ticks of the file are replayed one row every
 * --tick-ms (default 50) at wall-clock time, the file read again from its
 * start at its end.  Stops on SIGTERM/SIGINT, POST /_ctl/quit, or after
 * --max-seconds (default 900): a test can never leave it running.
 * Fault names: those of POST /_ctl/fault (ks_api.c).
 */
#include "ks.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define HEARTBEAT (1000000000LL)        /* Kite's 1-byte frame, every second */

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
    (void)sig;
    stop_signal = 1;
}

int64_t ks_mono(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int64_t ks_real(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int ks_pct(struct ks_server *s)
{
    /* xorshift64* */
    s->rng ^= s->rng >> 12;
    s->rng ^= s->rng << 25;
    s->rng ^= s->rng >> 27;
    return (int)((s->rng * 0x2545F4914F6CDD1Dull) >> 33) % 100;
}

struct opts {
    const char *instruments[4], *ticks, *cert, *key, *port_file;
    int ninstruments;
    int port, tick_ms, max_seconds;
    const char *faults[32];
    int nfaults;
};

static int usage(void)
{
    fprintf(stderr, "usage: kite_server --instruments FILE [--ticks FILE] [--tick-ms N] "
                    "[--port N] [--api-key K] [--access-token T] [--api-secret S] [--user U] "
                    "[--capital RUPEES] [--seed N] [--fault NAME=VALUE]... "
                    "[--tls-cert PEM --tls-key PEM] [--port-file FILE] [--max-seconds N]\n");
    return 2;
}

static int parse_args(int argc, char **argv, struct opts *o, struct ks_server *s)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

        if (!v)
            return usage();
        i++;
        if (!strcmp(a, "--instruments") && o->ninstruments < 4)
            o->instruments[o->ninstruments++] = v;
        else if (!strcmp(a, "--ticks"))
            o->ticks = v;
        else if (!strcmp(a, "--tick-ms"))
            o->tick_ms = atoi(v);
        else if (!strcmp(a, "--port"))
            o->port = atoi(v);
        else if (!strcmp(a, "--port-file"))
            o->port_file = v;
        else if (!strcmp(a, "--max-seconds"))
            o->max_seconds = atoi(v);
        else if (!strcmp(a, "--tls-cert"))
            o->cert = v;
        else if (!strcmp(a, "--tls-key"))
            o->key = v;
        else if (!strcmp(a, "--api-key"))
            snprintf(s->api_key, sizeof s->api_key, "%s", v);
        else if (!strcmp(a, "--access-token"))
            snprintf(s->token, sizeof s->token, "%s", v);
        else if (!strcmp(a, "--api-secret"))
            snprintf(s->api_secret, sizeof s->api_secret, "%s", v);
        else if (!strcmp(a, "--user"))
            snprintf(s->user, sizeof s->user, "%s", v);
        else if (!strcmp(a, "--capital"))
            s->capital = (hh_money_t)atoll(v) * HH_RUPEE;
        else if (!strcmp(a, "--seed"))
            s->rng = (uint64_t)strtoull(v, NULL, 10) * 2654435761u + 1;
        else if (!strcmp(a, "--fault") && o->nfaults < 32)
            o->faults[o->nfaults++] = v;
        else
            return usage();
    }
    return o->ninstruments && (!o->cert == !o->key) ? 0 : usage();
}

static int apply_faults(struct ks_server *s, const struct opts *o)
{
    struct ks_conn none;
    struct ks_req r;
    int bad = 0;

    /* the same parser as the control endpoint */
    for (int i = 0; i < o->nfaults; i++) {
        memset(&r, 0, sizeof r);
        memset(&none, 0, sizeof none);
        snprintf(r.method, sizeof r.method, "POST");
        snprintf(r.path, sizeof r.path, "/_ctl/fault");
        r.body = o->faults[i];
        r.blen = strlen(o->faults[i]);
        ks_api_request(s, &none, &r);
        bad |= none.out.n == 0 || strstr(none.out.p, "\"error\"") != NULL;
        ks_buf_free(&none.out);
    }
    return bad ? -1 : 0;
}

/* ---- ticks ---------------------------------------------------------------- */

struct replay {
    const char *path;
    struct hh_md_reader *r;
    int64_t every, next;
};

static void replay_step(struct ks_server *s, struct replay *rp)
{
    struct hh_tick t;
    int rc;

    if (!rp->path || ks_mono() < rp->next)
        return;
    rp->next += rp->every;
    if (!rp->r && hh_md_open(&rp->r, rp->path, HH_MD_TICKS, s->inst, NULL, NULL) != HH_OK)
        return;
    rc = hh_md_next_tick(rp->r, &t);
    if (rc != 1) {
        hh_md_close(rp->r);             /* at the end: from the start again */
        rp->r = NULL;
        return;
    }
    t.ts = ks_real();
    ks_exch_tick(s, &t);
    ks_api_broadcast_tick(s, &t);
}

/* ---- the loop -------------------------------------------------------------- */

static void reap(struct ks_server *s)
{
    size_t k = 0;
    int64_t now = ks_mono();

    for (size_t i = 0; i < s->nconns; i++) {
        struct ks_conn *c = s->conns[i];

        if (c->hold_until && now >= c->hold_until)
            c->dead = true;             /* the held answer never comes */
        if (!c->dead) {
            s->conns[k++] = c;
            continue;
        }
        if (c->ssl)
            SSL_free(c->ssl);
        close(c->fd);
        ks_buf_free(&c->in);
        ks_buf_free(&c->out);
        free(c->subs);
        free(c);
    }
    s->nconns = k;
}

static void heartbeat(struct ks_server *s)
{
    static const uint8_t beat = 0;

    for (size_t i = 0; i < s->nconns; i++)
        if (s->conns[i]->ws && !s->conns[i]->dead)
            ks_ws_send(s->conns[i], 2, &beat, 1);
}

static void cut_all(struct ks_server *s)
{
    for (size_t i = 0; i < s->nconns; i++) {
        if (s->conns[i]->ws) {
            s->conns[i]->dead = true;
            s->ws_cuts++;
        }
    }
}

static void serve(struct ks_server *s, int lfd, struct replay *rp, int64_t deadline)
{
    struct pollfd *pf = NULL;
    size_t cap = 0;
    int64_t next_beat = ks_mono() + HEARTBEAT, next_cut = 0;

    while (!s->quit && !stop_signal && ks_mono() < deadline) {
        int64_t now = ks_mono(), wait = ks_exch_due(s) / 1000000;

        if (s->nconns + 1 > cap) {
            cap = 2 * (s->nconns + 1);
            pf = realloc(pf, cap * sizeof *pf);
        }
        pf[0] = (struct pollfd){ lfd, POLLIN, 0 };
        for (size_t i = 0; i < s->nconns; i++)
            pf[i + 1] = (struct pollfd){ s->conns[i]->fd, ks_net_events(s->conns[i]), 0 };
        if (wait > 10)
            wait = 10;
        if (poll(pf, s->nconns + 1, (int)wait) < 0 && errno != EINTR)
            break;
        for (size_t i = 0, n = s->nconns; i < n; i++)
            if (pf[i + 1].revents)
                ks_net_io(s, s->conns[i], pf[i + 1].revents);
        if (pf[0].revents & POLLIN)
            ks_net_accept(s, lfd);
        replay_step(s, rp);
        now = ks_mono();
        if (now >= next_beat) {
            heartbeat(s);
            next_beat = now + HEARTBEAT;
        }
        if (s->f.ws_cut_every && now >= next_cut) {
            if (next_cut)
                cut_all(s);
            next_cut = now + s->f.ws_cut_every;
        }
        reap(s);
    }
    free(pf);
}

int main(int argc, char **argv)
{
    static struct ks_server s;
    struct opts o = { .tick_ms = 50, .max_seconds = 900 };
    struct replay rp = { 0 };
    struct hh_diag d = { "" };
    int lfd, port;

    snprintf(s.api_key, sizeof s.api_key, "testkey");
    snprintf(s.token, sizeof s.token, "testtoken");
    snprintf(s.api_secret, sizeof s.api_secret, "testsecret");
    snprintf(s.user, sizeof s.user, "AB1234");
    s.capital = 1000000 * HH_RUPEE;
    s.rng = 88172645463325252ull;
    s.f.hold = 3000000000LL;
    if (parse_args(argc, argv, &o, &s))
        return 2;
    signal(SIGPIPE, SIG_IGN);
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    s.instruments_path = o.instruments[0];
    if (!(s.inst = hh_inst_new()))
        return 2;
    for (int i = 0; i < o.ninstruments; i++) {
        if (hh_inst_load(s.inst, o.instruments[i], NULL, &d) != HH_OK) {
            fprintf(stderr, "kite_server: %s\n", d.msg);
            return 2;
        }
    }
    if (ks_exch_init(&s) || apply_faults(&s, &o)) {
        fprintf(stderr, "kite_server: cannot start (bad --fault?)\n");
        return 2;
    }
    if ((o.cert && ks_net_tls_init(o.cert, o.key)) ||
        (lfd = ks_net_listen("127.0.0.1", o.port, &port)) < 0) {
        fprintf(stderr, "kite_server: cannot listen on 127.0.0.1:%d or load TLS files\n",
                o.port);
        return 2;
    }
    rp.path = o.ticks;
    rp.every = (int64_t)(o.tick_ms > 0 ? o.tick_ms : 1) * 1000000;
    rp.next = ks_mono();
    printf("kite_server listening 127.0.0.1:%d\n", port);
    fflush(stdout);
    if (o.port_file) {
        FILE *f = fopen(o.port_file, "w");

        if (f) {
            fprintf(f, "%d\n", port);
            fclose(f);
        }
    }
    serve(&s, lfd, &rp, ks_mono() + (int64_t)o.max_seconds * 1000000000LL);
    close(lfd);
    hh_md_close(rp.r);
    s.quit = true;
    reap(&s);
    for (size_t i = 0; i < s.nconns; i++)
        s.conns[i]->dead = true;
    reap(&s);
    free(s.conns);
    free(s.call_ns);
    ks_buf_free(&s.held_update);
    ks_exch_free(&s);
    hh_inst_free(s.inst);
    return 0;
}
