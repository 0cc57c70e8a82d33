/*
 * bench_kite.c — the Kite adapter's three performance figures (issue 14):
 *
 *  1. tick packets parsed per second: a frame of 100 packets (40 full, 40
 *     quote, 20 ltp) through hh_kite_parse_ticks, best of 3 rounds of 2 s;
 *     target >= 5 M packets/s;
 *  2. the order round trip on loopback: place() against a canned HTTP/1.1
 *     server on 127.0.0.1 that answers every request at once, 500 calls
 *     spaced so the pacer never waits (orders_per_second 100).  Two figures:
 *     the whole call (adapter, kernel, the canned server's thread waking
 *     up), and what the adapter adds to it — the call's time less libcurl's
 *     own transfer time (CURLINFO_TOTAL_TIME_T): secrets check, pacer,
 *     form, JSON answer, tracking; target p99 <= 1 ms;
 *  3. the pacer under a burst of 100 calls at 10/s on the real clock: the
 *     time taken (>= 9.9 s) and the most starts in any second (<= 10).
 *
 * Prints "name: value unit" lines.  The figures are statistics for a human:
 * double is fine here.  On a shared 2-core VM they are noisy.
 */
#include "broker/kite.h"
#include "broker/kite_int.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define CALLS 500

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ---- 1. tick parsing ---------------------------------------------------- */

static size_t put32(uint8_t *p, int64_t v)
{
    uint32_t u = (uint32_t)v;

    p[0] = (uint8_t)(u >> 24);
    p[1] = (uint8_t)(u >> 16);
    p[2] = (uint8_t)(u >> 8);
    p[3] = (uint8_t)u;
    return 4;
}

static size_t build_frame(uint8_t *f)
{
    size_t n = 2;

    f[0] = 0;
    f[1] = 100;
    for (int i = 0; i < 100; i++) {
        size_t len = i < 40 ? 184 : i < 80 ? 44 : 8;
        uint8_t *p = f + n + 2;

        f[n] = (uint8_t)(len >> 8);
        f[n + 1] = (uint8_t)len;
        memset(p, 0, len);
        put32(p, 408065 + 256 * i);
        put32(p + 4, 150000 + i);
        for (size_t o = 8; o + 4 <= len && len > 8; o += 4)
            put32(p + o, 100 + (int64_t)o);
        n += 2 + len;
    }
    return n;
}

static void bench_ticks(void)
{
    static uint8_t frame[100 * 186 + 2];
    struct hh_kite_packet out[100];
    size_t len = build_frame(frame), n, sk;
    double best = 0;
    bool hb;
    const char *why;

    for (int round = 0; round < 3; round++) {
        double t0 = now_s(), t;
        uint64_t packets = 0;

        do {
            for (int i = 0; i < 1000; i++) {
                hh_kite_parse_ticks(frame, len, out, 100, &n, &sk, &hb, &why);
                packets += n;
                frame[6] ^= 1;          /* the price moves: nothing is hoisted */
            }
            t = now_s() - t0;
        } while (t < 2.0);
        if (packets / t > best)
            best = packets / t;
    }
    printf("kite_tick_packets_per_s: %.2f M (target >= 5 M)\n", best / 1e6);
}

/* ---- 2. order round trip ------------------------------------------------------ */

struct canned {
    int lfd;
    volatile int stop;
};

/* Answer every request on each connection with a placement's success. */
static void *serve(void *arg)
{
    static const char body[] = "{\"status\":\"success\",\"data\":{\"order_id\":\"1512200000001\"}}";
    struct canned *c = arg;
    int fd = accept(c->lfd, NULL, NULL), one = 1;
    char buf[8192], answer[256];
    size_t have = 0;
    int alen = snprintf(answer, sizeof answer,
                        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                        "Content-Length: %zu\r\nConnection: keep-alive\r\n\r\n%s",
                        sizeof body - 1, body);

    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    while (!c->stop && fd >= 0) {
        ssize_t r = read(fd, buf + have, sizeof buf - 1 - have);
        char *end, *cl;
        size_t need;

        if (r <= 0)
            break;
        have += (size_t)r;
        buf[have] = '\0';
        while ((end = strstr(buf, "\r\n\r\n"))) {
            cl = strcasestr(buf, "Content-Length:");
            need = (size_t)(end - buf) + 4 + (cl && cl < end ? strtoul(cl + 15, NULL, 10) : 0);
            if (have < need)
                break;
            if (write(fd, answer, (size_t)alen) < 0)
                break;
            memmove(buf, buf + need, have - need);
            have -= need;
            buf[have] = '\0';
        }
    }
    if (fd >= 0)
        close(fd);
    return NULL;
}

static int listen_any(int *port)
{
    struct sockaddr_in a;
    socklen_t len = sizeof a;
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, len) || listen(fd, 4) ||
        getsockname(fd, (struct sockaddr *)&a, &len))
        return -1;
    *port = ntohs(a.sin_port);
    return fd;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

static void write_secret(const char *path, const char *v)
{
    FILE *f = fopen(path, "w");

    if (f) {
        fprintf(f, "%s\n", v);
        fclose(f);
    }
    chmod(path, 0600);
}

static void bench_round_trip(void)
{
    static double lat[CALLS], added[CALLS];
    char dir[] = "/tmp/hh-bench-kite.XXXXXX", key[64], tok[64], url[64], pacer[64];
    struct hh_instruments *inst = hh_inst_new();
    struct hh_instrument in;
    struct hh_kite_config cfg;
    struct hh_kite *k = NULL;
    struct hh_order_req q;
    struct hh_broker b;
    struct canned c = { -1, 0 };
    struct hh_diag d;
    pthread_t th;
    int port;

    memset(&in, 0, sizeof in);
    snprintf(in.symbol, sizeof in.symbol, "RELIANCE");
    snprintf(in.underlying, sizeof in.underlying, "RELIANCE");
    in.lot_size = 1;
    in.tick = 5 * HH_PAISA;
    in.token = 738561;
    memset(&q, 0, sizeof q);
    if (!mkdtemp(dir) || hh_inst_add(inst, &in, &q.iid) || (c.lfd = listen_any(&port)) < 0) {
        printf("kite_round_trip: setup failed\n");
        return;
    }
    snprintf(key, sizeof key, "%s/key", dir);
    snprintf(tok, sizeof tok, "%s/token", dir);
    snprintf(pacer, sizeof pacer, "%s/acct.pacer", dir);
    write_secret(key, "benchkey");
    write_secret(tok, "benchtoken");
    snprintf(url, sizeof url, "http://127.0.0.1:%d", port);
    hh_kite_config_defaults(&cfg);
    cfg.api_url = url;
    cfg.ws_url = NULL;
    cfg.api_key_file = key;
    cfg.access_token_file = tok;
    cfg.orders_per_second = 100;
    cfg.pacer_file = pacer;             /* shared through a file, as `run` does */
    pthread_create(&th, NULL, serve, &c);
    if (hh_kite_new(&cfg, inst, &k, &d)) {
        printf("kite_round_trip: %s\n", d.msg);
        return;
    }
    b = hh_kite_broker(k);
    q.side = HH_BUY;
    q.type = HH_ORD_MARKET;
    q.qty = 1;
    for (int i = 0; i < CALLS + 20; i++) {
        struct timespec gap = { 0, 11 * 1000000L };     /* the pacer never waits */
        uint64_t id;
        double t0;
        curl_off_t xfer = 0;

        snprintf(q.client_id, sizeof q.client_id, "b%d", i);
        nanosleep(&gap, NULL);
        t0 = now_s();
        b.ops->place(b.impl, &q, &id);
        t0 = now_s() - t0;
        curl_easy_getinfo(k->core_http.curl, CURLINFO_TOTAL_TIME_T, &xfer);
        if (i >= 20) {                  /* the first calls warm the connection */
            lat[i - 20] = t0;
            added[i - 20] = t0 - (double)xfer * 1e-6;
        }
    }
    qsort(lat, CALLS, sizeof lat[0], cmp_d);
    qsort(added, CALLS, sizeof added[0], cmp_d);
    printf("kite_place_round_trip: p50 %.3f ms, p99 %.3f ms (adapter + loopback + the "
           "canned server)\n", lat[CALLS / 2] * 1e3, lat[CALLS * 99 / 100] * 1e3);
    printf("kite_place_added_by_adapter: p50 %.3f ms, p99 %.3f ms (target p99 <= 1 ms)\n",
           added[CALLS / 2] * 1e3, added[CALLS * 99 / 100] * 1e3);
    c.stop = 1;
    hh_kite_free(k);
    shutdown(c.lfd, SHUT_RDWR);
    close(c.lfd);
    pthread_join(th, NULL);
    hh_inst_free(inst);
    unlink(key);
    unlink(tok);
    unlink(pacer);
    rmdir(dir);
}

/* ---- 3. the pacer ------------------------------------------------------------ */

static void bench_pacer(void)
{
    struct hh_kite__lim l;
    int64_t t[100];
    int most = 0;
    size_t j = 0;
    double t0 = now_s();

    hh_kite__lim_init(&l, 10, 200, 5 * HH_NS_PER_S);
    for (int i = 0; i < 100; i++)
        hh_kite__lim_release(&l, hh_kite__lim_acquire(&l, &t[i]));
    for (size_t i = 0; i < 100; i++) {
        while (t[i] - t[j] >= HH_NS_PER_S)
            j++;
        if ((int)(i - j + 1) > most)
            most = (int)(i - j + 1);
    }
    printf("kite_pacer_burst_100_at_10: %.2f s (>= 9.9), most in any second: %d (<= 10)\n",
           now_s() - t0, most);
    hh_kite__lim_destroy(&l);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    bench_ticks();
    bench_round_trip();
    bench_pacer();
    return 0;
}
