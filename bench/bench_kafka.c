/*
 * bench_kafka.c — signals from Kafka end to end (issue 15): a librdkafka
 * mock cluster in this process, `hedgehog run --mode paper` with
 * `signals.source: kafka` as a child (SQLite `normal`), a producer here.
 *
 *   burst   300,000 messages offered at 60,000/s (0.1 % valid signals, the
 *           rest rejections — INVERTED_LEVELS, DUPLICATE — each one a dead
 *           letter produced back to the cluster): decisions/s while the
 *           burst lasts, and how long after its end the last message is
 *           decided and durable (the consumer lag back to zero);
 *   steady  1,000 messages/s for 30 s (HH_BENCH_LONG=1: the seeds' 5
 *           minutes): the seeds' load test at its rate — 100 valid signals,
 *           then published again and again (DUPLICATE) — with each message's
 *           latency from produce() to its decision being committed
 *           (observed by polling the database every 2 ms: p50, p99, max),
 *           lost and duplicated messages (database rows per partition and
 *           offset against the delivery reports), the engine's RSS.
 * Both decide on the same engine; valid signals wait (entry far away), so
 * the live state the engine checkpoints stays bounded.
 */
#include "benchutil.h"

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/stat.h>

#define PARTS 16
#define MAXOFF 400000                  /* offsets remembered per partition */
#define BURST 300000
#define BURST_RATE 60000.0

struct bench {
    char dir[256], db[300];
    rd_kafka_t *prod;
    double *sent[PARTS];               /* produce time by partition and offset (0: none) */
    uint64_t delivered, failed;
    pid_t engine;
    sqlite3 *rd;
    int64_t last_row;                  /* signals rows seen */
    double *lat;                       /* steady: latencies, ms */
    size_t nlat, caplat;
    bool track;                        /* record latencies */
    uint64_t dups;
};

static void on_dr(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    struct bench *b = opaque;
    double *t = m->_private;

    (void)rk;
    if (m->err || m->partition < 0 || m->partition >= PARTS || m->offset >= MAXOFF) {
        b->failed++;
    } else {
        b->sent[m->partition][m->offset] = *t;
        b->delivered++;
    }
    free(t);
}

static int produce(struct bench *b, const char *line)
{
    double *t = malloc(sizeof *t);

    if (!t)
        return -1;
    *t = bu_now();
    while (rd_kafka_producev(b->prod, RD_KAFKA_V_TOPIC("sig"), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                             RD_KAFKA_V_VALUE((void *)line, strlen(line)), RD_KAFKA_V_OPAQUE(t),
                             RD_KAFKA_V_END) == RD_KAFKA_RESP_ERR__QUEUE_FULL)
        rd_kafka_poll(b->prod, 1);
    rd_kafka_poll(b->prod, 0);
    return 0;
}

/* Message i: 1 in 1000 a valid signal (ids v<i>), else a rejection. */
static void line_of(char *buf, size_t cap, uint64_t i, bool steady)
{
    const char *stop = "119.5";
    char id[32];

    if (steady)
        snprintf(id, sizeof id, "s%llu", (unsigned long long)(i % 100));   /* repeats */
    else if (i % 1000 == 0)
        snprintf(id, sizeof id, "v%llu", (unsigned long long)i);
    else
        snprintf(id, sizeof id, "r%llu", (unsigned long long)(i % 50000)),
            stop = "121.5";   /* inverted; ids repeat: DUPLICATE */
    snprintf(buf, cap, "{\"id\":\"%s\",\"ts\":\"2025-01-02T09:15:00+05:30\",\"symbol\":\"XYZ\","
             "\"side\":\"BUY\",\"entry\":120.5,\"stop\":%s,\"targets\":[122.5]}", id, stop);
}

/* New committed rows: latencies (steady), duplicates.  Returns rows seen. */
static int64_t poll_db(struct bench *b)
{
    sqlite3_stmt *s;
    double now = bu_now();

    if (sqlite3_prepare_v2(b->rd, "SELECT id, kafka_partition, kafka_offset FROM signals "
                           "WHERE id > ?1 ORDER BY id", -1, &s, NULL) != SQLITE_OK)
        return b->last_row;
    sqlite3_bind_int64(s, 1, b->last_row);
    while (sqlite3_step(s) == SQLITE_ROW) {
        int p = sqlite3_column_int(s, 1);
        int64_t o = sqlite3_column_int64(s, 2);

        b->last_row = sqlite3_column_int64(s, 0);
        if (p < 0 || p >= PARTS || o < 0 || o >= MAXOFF)
            continue;
        if (b->sent[p][o] < 0)
            b->dups++;
        else if (b->track && b->sent[p][o] > 0 && b->nlat < b->caplat)
            b->lat[b->nlat++] = (now - b->sent[p][o]) * 1e3;
        b->sent[p][o] = -1;   /* decided */
    }
    sqlite3_finalize(s);
    return b->last_row;
}

static long rss_kb(pid_t pid)
{
    char path[64], line[256];
    long kb = -1;
    FILE *f;

    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    if (!(f = fopen(path, "r")))
        return -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "VmRSS: %ld", &kb) == 1)
            break;
    fclose(f);
    return kb;
}

/* Produce n messages at rate/s, polling the database as it goes. */
static void offer(struct bench *b, uint64_t from, uint64_t n, double rate, bool steady)
{
    double t0 = bu_now();
    char line[256];

    for (uint64_t i = 0; i < n; i++) {
        while (bu_now() < t0 + (double)i / rate) {
            rd_kafka_poll(b->prod, 0);
            if (steady)
                poll_db(b);
        }
        line_of(line, sizeof line, from + i, steady);
        produce(b, line);
        if (steady && i % 50 == 0)
            poll_db(b);
    }
    rd_kafka_flush(b->prod, 10000);
}

/* Wait until the outbox is sent (the burst's dead letters), bounded. */
static void outbox_sent(struct bench *b, double limit)
{
    double t0 = bu_now();
    sqlite3_stmt *s;

    if (sqlite3_prepare_v2(b->rd, "SELECT count(*) FROM outbox WHERE sent = 0", -1, &s,
                           NULL) != SQLITE_OK)
        return;
    while (bu_now() - t0 < limit) {
        bool done = sqlite3_step(s) == SQLITE_ROW && sqlite3_column_int64(s, 0) == 0;

        sqlite3_reset(s);
        if (done)
            break;
        usleep(20000);
    }
    sqlite3_finalize(s);
}

/* Wait until `want` rows are committed (bounded); seconds it took. */
static double drain(struct bench *b, int64_t want, double limit)
{
    double t0 = bu_now();

    while (poll_db(b) < want && bu_now() - t0 < limit)
        usleep(2000);
    return bu_now() - t0;
}

static int cmp_d(const void *a, const void *c)
{
    double x = *(const double *)a, y = *(const double *)c;

    return x < y ? -1 : x > y;
}

static void write_inputs(struct bench *b, const char *bs)
{
    char p[400];
    FILE *f;

    snprintf(p, sizeof p, "%s/instruments.csv", b->dir);
    f = fopen(p, "w");
    fprintf(f, "symbol,exchange,type,underlying,expiry,strike,option_type,lot_size,tick_size,"
               "freeze_qty\nXYZ,NSE,EQ,XYZ,,,,1,0.05,\n");
    fclose(f);
    snprintf(p, sizeof p, "%s/ticks.csv", b->dir);
    f = fopen(p, "w");
    fprintf(f, "ts,symbol,price,qty\n");
    for (int s = 0; s < 6 * 3600; s++) {
        int t = 33300 + s;

        fprintf(f, "2025-01-02T%02d:%02d:%02d+05:30,XYZ,100.50,100\n", t / 3600, t / 60 % 60,
                t % 60);
    }
    fclose(f);
    snprintf(p, sizeof p, "%s/config.yaml", b->dir);
    f = fopen(p, "w");
    fprintf(f, "instruments: instruments.csv\nsignals:\n  max_live_age_s: 36000\n"
               "  source: kafka\n  kafka: {brokers: \"%s\", topic: sig, group: bench, "
               "dlq_topic: dlq}\nentry: {mode: touch}\n", bs);
    fclose(f);
}

static pid_t start_engine(struct bench *b)
{
    const char *hh = getenv("HH");
    pid_t pid = fork();

    if (pid == 0) {
        char log[400];

        snprintf(log, sizeof log, "%s/engine.log", b->dir);
        if (chdir(b->dir) || !freopen(log, "w", stderr))
            _exit(127);
        execl(hh, hh, "run", "--config", "config.yaml", "--mode", "paper", "--ticks",
              "ticks.csv", "--speed", "1", "--db", "run.db", (char *)NULL);
        _exit(127);
    }
    return pid;
}

static int setup(struct bench *b, rd_kafka_mock_cluster_t **mc, rd_kafka_t **mrk)
{
    char err[256];
    rd_kafka_conf_t *c = rd_kafka_conf_new();
    const char *tmp = getenv("TMPDIR");

    snprintf(b->dir, sizeof b->dir, "%s/hh-bench-kafka.XXXXXX", tmp ? tmp : "/tmp");
    if (!mkdtemp(b->dir) || !getenv("HH"))
        return -1;
    rd_kafka_conf_set(c, "log_level", "2", err, sizeof err);
    *mrk = rd_kafka_new(RD_KAFKA_PRODUCER, c, err, sizeof err);
    if (!*mrk || !(*mc = rd_kafka_mock_cluster_new(*mrk, 1)))
        return -1;
    rd_kafka_mock_topic_create(*mc, "sig", PARTS, 1);
    rd_kafka_mock_topic_create(*mc, "dlq", PARTS, 1);
    write_inputs(b, rd_kafka_mock_cluster_bootstraps(*mc));
    c = rd_kafka_conf_new();
    rd_kafka_conf_set(c, "bootstrap.servers", rd_kafka_mock_cluster_bootstraps(*mc), err,
                      sizeof err);
    rd_kafka_conf_set(c, "linger.ms", "2", err, sizeof err);
    rd_kafka_conf_set(c, "queue.buffering.max.messages", "1000000", err, sizeof err);
    rd_kafka_conf_set_dr_msg_cb(c, on_dr);
    rd_kafka_conf_set_opaque(c, b);
    b->prod = rd_kafka_new(RD_KAFKA_PRODUCER, c, err, sizeof err);
    for (int p = 0; p < PARTS; p++)
        if (!(b->sent[p] = calloc(MAXOFF, sizeof *b->sent[p])))
            return -1;
    return b->prod ? 0 : -1;
}

static int open_db(struct bench *b)
{
    snprintf(b->db, sizeof b->db, "%s/run.db", b->dir);
    for (int i = 0; i < 300; i++) {
        struct stat st;

        if (stat(b->db, &st) == 0 &&
            sqlite3_open_v2(b->db, &b->rd, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK)
            return 0;
        usleep(100000);
    }
    return -1;
}

int main(void)
{
    struct bench b = { .track = false };
    rd_kafka_mock_cluster_t *mc = NULL;
    rd_kafka_t *mrk = NULL;
    bool longrun = getenv("HH_BENCH_LONG") && !strcmp(getenv("HH_BENCH_LONG"), "1");
    int secs = longrun ? 300 : 30;
    double t0, t_burst, after, p50, p99, pmax;
    long rss_early, rss_end;
    int64_t want, at_end;
    char line[256];

    if (setup(&b, &mc, &mrk) || !(b.engine = start_engine(&b)) || open_db(&b)) {
        fprintf(stderr, "bench_kafka: set-up failed (HH set? a writable TMPDIR?)\n");
        return 1;
    }
    line_of(line, sizeof line, 1, false);   /* warm-up: the group joined, the path is hot */
    produce(&b, line);
    rd_kafka_flush(b.prod, 10000);
    drain(&b, 1, 60);
    t0 = bu_now();
    offer(&b, 2, BURST, BURST_RATE, false);
    t_burst = bu_now() - t0;
    at_end = poll_db(&b);
    want = (int64_t)b.delivered;
    after = drain(&b, want, 120);
    printf("kafka burst: %d messages offered in %.2f s (%.0f/s): %.0f/s decided and durable "
           "during the burst, %.0f/s first to last; the last decided %.2f s after the burst's "
           "end%s\n", BURST, t_burst, BURST / t_burst, (double)(at_end - 1) / t_burst,
           (double)(b.last_row - 1) / (bu_now() - t0), after, after <= 5 ? "" : " (over 5 s)");
    outbox_sent(&b, 120);   /* the steady phase starts on a quiet engine */
    b.caplat = (size_t)secs * 1000 + 1000;
    b.lat = calloc(b.caplat, sizeof *b.lat);
    b.track = true;
    offer(&b, 0, (uint64_t)secs * 200, 1000, true);   /* the first fifth: RSS settles */
    rss_early = rss_kb(b.engine);
    offer(&b, (uint64_t)secs * 200, (uint64_t)secs * 800, 1000, true);
    want = (int64_t)b.delivered;
    drain(&b, want, 60);
    rss_end = rss_kb(b.engine);
    qsort(b.lat, b.nlat, sizeof *b.lat, cmp_d);
    p50 = b.nlat ? b.lat[b.nlat / 2] : 0;
    p99 = b.nlat ? b.lat[b.nlat * 99 / 100] : 0;
    pmax = b.nlat ? b.lat[b.nlat - 1] : 0;
    printf("kafka steady: %d s at 1000/s: lost %lld, duplicated %llu; produce->decision "
           "durable (%zu messages whose delivery report came first) p50 %.1f ms, p99 %.1f ms%s, "
           "max %.1f ms; engine RSS %ld KiB after %d s, %ld KiB at the end\n", secs,
           (long long)((int64_t)b.delivered - b.last_row + (int64_t)b.dups),
           (unsigned long long)b.dups, b.nlat, p50, p99,
           p99 < 50 ? "" : " (over 50 ms)", pmax, rss_early, secs / 5, rss_end);
    kill(b.engine, SIGTERM);
    waitpid(b.engine, NULL, 0);
    sqlite3_close(b.rd);
    rd_kafka_destroy(b.prod);
    rd_kafka_mock_cluster_destroy(mc);
    rd_kafka_destroy(mrk);
    for (int p = 0; p < PARTS; p++)
        free(b.sent[p]);
    free(b.lat);
    if (!getenv("BENCH_KEEP")) {
        char cmd[400];

        snprintf(cmd, sizeof cmd, "rm -rf '%s'", b.dir);
        if (system(cmd) != 0)
            fprintf(stderr, "bench_kafka: could not remove %s\n", b.dir);
    }
    return 0;
}
