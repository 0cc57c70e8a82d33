/*
 * bench_store.c — durable records per second and commit latency of the
 * SQLite store, at synchronous=NORMAL and FULL, with group commit.
 *
 * The record mix is one signal's life in the engine, 9 records in 7
 * submissions: the signal as received, its SIGNAL_ACCEPTED audit row, a
 * trade state transition, the order (upsert), its ORDER_SENT audit row,
 * an atomic group of 3 (order event FILL + fill + position upsert) and the
 * ORDER_FILLED audit row.
 *
 *   *_records_per_s      one producer submits as fast as the queue takes
 *                        it for ~2 s; records / (first submit .. last ack)
 *   *_saturated_p50/p99  submit -> ack latency in that run (mostly time
 *                        spent queued behind a saturated writer)
 *   *_paced_p50/p99/max  submit -> ack latency at a steady 20,000 records/s
 *                        (a busy live session), the latency a caller sees
 *   *_records_per_txn    average group size in the saturated run
 *
 * The database lives in a fresh directory under $TMPDIR (default /tmp).
 */
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_SUBS (4u << 20)

struct lat {
    double *sent;                  /* submit time by token (s, monotonic) */
    double *took;                  /* ack - submit by token */
    uint64_t acked;
};

static double now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Writer thread: record the latency of this submission. */
static void on_ack(void *ctx, uint64_t token, uint64_t seq)
{
    struct lat *l = ctx;

    (void)seq;
    l->took[token] = now() - l->sent[token];
    l->acked++;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

/* One signal's life: 9 records, 7 submissions; returns submissions made. */
static uint64_t submit_cycle(struct hh_store *st, struct lat *l, uint64_t tok, uint64_t i)
{
    char id[32], raw[200], payload[120];
    hh_time_t t = 1735790100LL * HH_NS_PER_S + (hh_time_t)i * HH_NS_PER_MS;
    struct hh_store_rec r[3];
    uint64_t n = 0;

    snprintf(id, sizeof id, "sig-%llu", (unsigned long long)i);
    snprintf(raw, sizeof raw, "{\"id\":\"%s\",\"ts\":\"2025-01-02T09:15:00+05:30\","
             "\"symbol\":\"NIFTY25JANFUT\",\"side\":\"BUY\",\"entry\":\"23500\","
             "\"stop\":\"23400\",\"targets\":[\"23700\"]}", id);
    snprintf(payload, sizeof payload, "{\"signal_id\":\"%s\",\"symbol\":\"NIFTY25JANFUT\","
             "\"qty\":75,\"price\":\"23500.00\"}", id);
    memset(r, 0, sizeof r);
#define SUBMIT(cnt)                                                           \
    do {                                                                      \
        l->sent[tok + n] = now();                                             \
        if (hh_store_submit(st, r, (cnt), tok + n, NULL, NULL) != HH_OK)      \
            exit(1);                                                          \
        n++;                                                                  \
    } while (0)
    r[0].kind = HH_STORE_SIGNAL;
    r[0].u.signal = (struct hh_store_signal){ .signal_id = id, .line = i, .raw = raw,
                                              .received_at = t, .accepted = true,
                                              .correlation_id = id };
    SUBMIT(1);
    r[0].kind = HH_STORE_AUDIT;
    r[0].u.audit = (struct hh_store_audit){ .at = t, .kind = HH_AUDIT_SIGNAL_ACCEPTED,
                                            .correlation_id = id, .payload = payload };
    SUBMIT(1);
    r[0].kind = HH_STORE_TRADE_STATE;
    r[0].u.trade_state = (struct hh_store_trade_state){ .trade_key = id,
                                                        .state = HH_TS_WAITING, .at = t };
    SUBMIT(1);
    r[0].kind = HH_STORE_ORDER;
    r[0].u.order = (struct hh_store_order){ .client_id = id, .order_id = i + 1,
                                            .trade_key = id, .symbol = "NIFTY25JANFUT",
                                            .side = HH_BUY, .type = HH_ORD_MARKET, .qty = 75,
                                            .state = HH_OS_SENT, .at = t };
    SUBMIT(1);
    r[0].kind = HH_STORE_AUDIT;
    r[0].u.audit.kind = HH_AUDIT_ORDER_SENT;
    SUBMIT(1);
    r[0].kind = HH_STORE_ORDER_EVENT;
    r[0].u.order_event = (struct hh_store_order_event){
        .order_id = i + 1, .client_id = id, .kind = HH_RPT_FILL, .at = t, .qty = 75,
        .price = 235000000, .filled = 75, .exec_id = i + 1 };
    r[1].kind = HH_STORE_FILL;
    r[1].u.fill = (struct hh_store_fill){ .ts = t, .order_id = i + 1, .trade_id = (uint32_t)i,
                                          .signal_id = id, .symbol = "NIFTY25JANFUT",
                                          .side = HH_BUY, .qty = 75, .price = 235000000,
                                          .reason = "ENTRY", .charges = 450000,
                                          .exec_id = i + 1 };
    r[2].kind = HH_STORE_POSITION;
    r[2].u.position = (struct hh_store_position){ .symbol = "NIFTY25JANFUT", .qty = 75,
                                                  .avg_price = 235000000, .at = t };
    SUBMIT(3);
    r[0].kind = HH_STORE_AUDIT;
    r[0].u.audit = (struct hh_store_audit){ .at = t, .kind = HH_AUDIT_ORDER_FILLED,
                                            .correlation_id = id, .payload = payload };
    SUBMIT(1);
#undef SUBMIT
    return n;
}

static void percentiles(const char *prefix, const char *what, double *v, uint64_t n)
{
    if (n == 0)
        return;
    qsort(v, n, sizeof *v, cmp_double);
    printf("%s_%s_p50_ms: %.3f ms\n", prefix, what, v[n / 2] * 1e3);
    printf("%s_%s_p99_ms: %.3f ms\n", prefix, what, v[(n * 99) / 100] * 1e3);
    printf("%s_%s_max_ms: %.3f ms\n", prefix, what, v[n - 1] * 1e3);
}

static struct hh_store *open_fresh(const char *dir, const char *name, enum hh_store_sync sync,
                                   struct lat *l)
{
    char path[600];
    struct hh_store_opts o;
    struct hh_store *st;
    struct hh_diag d = { { 0 } };

    snprintf(path, sizeof path, "%s/%s", dir, name);
    hh_store_opts_default(&o);
    o.sync = sync;
    o.ack = on_ack;
    o.ack_ctx = l;
    if (hh_store_open(path, &o, &st, &d) != HH_OK) {
        fprintf(stderr, "bench_store: %s\n", d.msg);
        exit(1);
    }
    return st;
}

static void run(const char *dir, enum hh_store_sync sync, const char *prefix)
{
    struct lat l = { 0 };
    struct hh_store *st;
    struct hh_store_stats s;
    struct hh_diag d = { { 0 } };
    uint64_t tok = 1, cycles = 0, first;
    double t0, t1, tpace;

    l.sent = calloc(MAX_SUBS + 16, sizeof *l.sent);
    l.took = calloc(MAX_SUBS + 16, sizeof *l.took);
    if (!l.sent || !l.took)
        exit(1);

    /* Saturated: as fast as the queue takes it, ~2 s. */
    st = open_fresh(dir, sync == HH_STORE_SYNC_FULL ? "full.db" : "normal.db", sync, &l);
    t0 = now();
    while (now() - t0 < 2.0 && tok + 16 < MAX_SUBS / 2)
        for (int k = 0; k < 64; k++, cycles++)
            tok += submit_cycle(st, &l, tok, cycles);
    if (hh_store_flush(st, &d) != HH_OK) {
        fprintf(stderr, "bench_store: %s\n", d.msg);
        exit(1);
    }
    t1 = now();
    hh_store_stats(st, &s);
    printf("%s_records_per_s: %.0f rec/s\n", prefix, s.committed / (t1 - t0));
    printf("%s_records_per_txn: %.0f rec\n", prefix,
           s.transactions ? (double)s.committed / s.transactions : 0.0);
    percentiles(prefix, "saturated", l.took + 1, tok - 1);

    /* Paced: 20,000 records/s (one cycle of 9 records every 450 us) for 1 s. */
    first = tok;
    tpace = now();
    for (uint64_t c = 0; c < 2222; c++, cycles++) {
        double due = tpace + c * 450e-6;

        while (now() < due)
            usleep(50);
        tok += submit_cycle(st, &l, tok, cycles);
    }
    if (hh_store_flush(st, &d) != HH_OK) {
        fprintf(stderr, "bench_store: %s\n", d.msg);
        exit(1);
    }
    percentiles(prefix, "paced20k", l.took + first, tok - first);
    hh_store_close(st, NULL);
    free(l.sent);
    free(l.took);
}

int main(void)
{
    const char *tmp = getenv("TMPDIR");
    char dir[512], cmd[600];

    snprintf(dir, sizeof dir, "%s/hh-bench-store.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir)) {
        perror("bench_store: mkdtemp");
        return 1;
    }
    run(dir, HH_STORE_SYNC_NORMAL, "store_normal");
    run(dir, HH_STORE_SYNC_FULL, "store_full");
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        return 1;
    return 0;
}
