/*
 * kafka.c — the Kafka feed (contract in kafka.h): librdkafka's consumer on
 * one thread (fetch, rebalances, advisory commits, lag), its producer on
 * another (delivery reports), the core on the other side of the hub.
 *
 * Invariants, under the hub's mutex:
 *   - the ring holds messages of the current assignment only: a revocation
 *     empties it before anything else, and nothing is pushed between a
 *     revocation and the next assignment;
 *   - revoke_ack <= revoke_req; a revocation proceeds (commits, lets the
 *     partitions go) only once revoke_ack == revoke_req, the feed is
 *     detached, or REVOKE_WAIT passed (then it commits what the core had
 *     reported, which is never ahead of what is durable);
 *   - parts[i].consumed only grows while partition i stays assigned, and is
 *     never ahead of what the core reported consumed or of the start of
 *     the assignment (itself the core's durable offset, or the group's);
 *   - no offset is committed between a revocation and the next assignment
 *     (in_generation: see housekeeping).
 * The producer handle is replaced only by its thread, under pmu, which
 * hh_kafka_produce also takes.
 */
#include "feed/kafka.h"

#include "feed/feed_int.h"

#include <librdkafka/rdkafka.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define RING 1024
#define POLL_MS 100
#define REVOKE_WAIT (30 * HH_NS_PER_S)
#define COMMIT_EVERY (100 * HH_NS_PER_MS)   /* a new member finds them fresh */
#define RATE_EVERY 5                   /* seconds */
#define COMMITTED_TIMEOUT_MS 5000
#define LATE_TRIES 50                  /* a refused revocation commit: 5 s of retries */

struct hh_kafka {
    struct hh_feed_hub *hub;
    char *brokers, *topic, *group;     /* copies of the options' */
    char **props;
    int nprops;
    int (*resume)(void *, const int32_t *, int64_t *, int, char *, size_t);
    void *resume_ctx;
    size_t max_value;
    rd_kafka_t *cons;                  /* NULL: a producer only */
    rd_kafka_t *prod;                  /* under pmu */
    pthread_mutex_t pmu;
    pthread_t cthread, pthread;
    bool cstarted, pstarted;
    pthread_cond_t released;           /* with hub->mu: the core answered */
    /* under hub->mu */
    struct hh_kafka_msg slots[RING];
    struct hh_feed__ring ring;
    uint64_t revoke_req, revoke_ack;
    bool detached;                     /* no revocation waits for the core */
    bool pstop;                        /* the producer thread ends */
    bool pause_want;
    struct hh_kafka_ack *acks;         /* acks[ackhead..nacks): not yet taken */
    size_t ackhead, nacks, capacks;
    struct hh_kafka_status st;         /* counters and the assignment */
    /* the consumer thread only */
    bool pause_applied;
    int64_t committed[HH_KAFKA_MAX_PARTS];   /* last committed, per parts[] slot */
    int64_t last_commit_ns, last_tick_ns;
    bool in_generation;                /* assigned, no revocation since: our JoinGroup
                                          and SyncGroup are answered */
    int64_t unassigned_ns;             /* when the assignment last became empty */
    rd_kafka_topic_partition_list_t *late;   /* a revocation's commit still due */
    int late_tries;
    uint64_t rate_base;
};

static void lock(struct hh_kafka *k)
{
    pthread_mutex_lock(&k->hub->mu);
}

static void unlock(struct hh_kafka *k)
{
    pthread_mutex_unlock(&k->hub->mu);
}

/* Under the hub's lock: wait on c for at most POLL_MS; true on timeout. */
static bool wait_locked(struct hh_kafka *k, pthread_cond_t *c)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_nsec += POLL_MS * HH_NS_PER_MS;
    ts.tv_sec += ts.tv_nsec / HH_NS_PER_S;
    ts.tv_nsec %= HH_NS_PER_S;
    return pthread_cond_timedwait(c, &k->hub->mu, &ts) != 0;
}

void hh_kafka_msg_free(struct hh_kafka_msg *m)
{
    if (!m)
        return;
    free(m->mem);
    memset(m, 0, sizeof *m);
}

/* Under the hub's lock: an error to show in the status. */
static void note_error(struct hh_kafka *k, const char *what, const char *why)
{
    size_t cap = sizeof k->st.last_error;
    int n = snprintf(k->st.last_error, cap, "%s: ", what);

    size_t room, len;

    if (n < 0 || (size_t)n >= cap)
        return;
    room = cap - (size_t)n - 1;   /* a long reason is cut, not an error */
    len = strnlen(why, room);
    memcpy(k->st.last_error + n, why, len);
    k->st.last_error[(size_t)n + len] = '\0';
}

static void fail(struct hh_kafka *k, const char *why)
{
    lock(k);
    k->st.failed = true;
    snprintf(k->st.why, sizeof k->st.why, "%s", why);
    hh_feed__wake_locked(k->hub);
    unlock(k);
}

/* ---- clients ------------------------------------------------------------------------ */

/* librdkafka's own log lines would break the JSON lines of stderr: the
 * latest warning goes into the status instead. */
static void on_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    struct hh_kafka *k = rd_kafka_opaque(rk);

    if (level > 4 || !k)
        return;
    lock(k);
    note_error(k, fac, buf);
    unlock(k);
}

static int set(rd_kafka_conf_t *c, const char *key, const char *value, bool secret,
               struct hh_diag *d)
{
    char err[256];

    if (rd_kafka_conf_set(c, key, value, err, sizeof err) == RD_KAFKA_CONF_OK)
        return HH_OK;
    if (secret)   /* the caller's: the message might quote the value */
        return hh_diag_set(d, HH_EINVAL, "signals.kafka.client: property '%s' not accepted "
                           "(unknown property or invalid value)", key);
    return hh_diag_set(d, HH_EINVAL, "kafka: property '%s': %s", key, err);
}

static void on_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *pl, void *opaque);
static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque);

static const char *const CONSUMER_DEFAULTS[] = {
    "enable.auto.commit", "false", "enable.auto.offset.store", "false",
    "auto.offset.reset", "earliest", "session.timeout.ms", "6000",
    "heartbeat.interval.ms", "500", "fetch.wait.max.ms", "10", "enable.partition.eof", "false",
    "log.connection.close", "false", "client.id", "hedgehog",
};
static const char *const PRODUCER_DEFAULTS[] = {
    "enable.idempotence", "true", "linger.ms", "5", "message.timeout.ms", "10000",
    "log.connection.close", "false", "client.id", "hedgehog",
};

/* The feed takes and gives up whole assignments (rd_kafka_assign): with a
 * cooperative strategy every assignment would fail and the partitions
 * would stay with nobody. */
static int eager_only(const char *key, const char *value, struct hh_diag *d)
{
    if (strcmp(key, "partition.assignment.strategy") || !strstr(value, "cooperative"))
        return HH_OK;
    return hh_diag_set(d, HH_EINVAL, "signals.kafka.client: property '%s': a cooperative "
                       "strategy is not supported (partitions are assigned eagerly)", key);
}

static rd_kafka_t *client(struct hh_kafka *k, rd_kafka_type_t type, struct hh_diag *d)
{
    rd_kafka_conf_t *c = rd_kafka_conf_new();
    bool consumer = type == RD_KAFKA_CONSUMER;
    const char *const *def = consumer ? CONSUMER_DEFAULTS : PRODUCER_DEFAULTS;
    size_t ndef = consumer ? sizeof CONSUMER_DEFAULTS / sizeof *def
                           : sizeof PRODUCER_DEFAULTS / sizeof *def;
    char err[256];
    rd_kafka_t *rk;
    int rc = set(c, "bootstrap.servers", k->brokers, false, d);

    if (!rc && consumer)
        rc = set(c, "group.id", k->group, false, d);
    for (size_t i = 0; !rc && i < ndef; i += 2)
        rc = set(c, def[i], def[i + 1], false, d);
    for (int i = 0; !rc && i < k->nprops; i++) {
        if (consumer)
            rc = eager_only(k->props[2 * i], k->props[2 * i + 1], d);
        if (!rc)
            rc = set(c, k->props[2 * i], k->props[2 * i + 1], true, d);
    }
    if (rc) {
        rd_kafka_conf_destroy(c);
        return NULL;
    }
    rd_kafka_conf_set_opaque(c, k);
    rd_kafka_conf_set_log_cb(c, on_log);
    if (consumer)
        rd_kafka_conf_set_rebalance_cb(c, on_rebalance);
    else
        rd_kafka_conf_set_dr_msg_cb(c, on_delivery);
    rk = rd_kafka_new(type, c, err, sizeof err);
    if (!rk) {
        rd_kafka_conf_destroy(c);
        hh_diag_set(d, HH_EIO, "kafka: cannot create the %s: %s",
                    consumer ? "consumer" : "producer", err);
        return NULL;
    }
    if (consumer)
        rd_kafka_poll_set_consumer(rk);
    return rk;
}

/* ---- assignment and revocation (consumer thread, inside its poll) ---------------------- */

/* Where each partition assigned starts: the core's next offset, or the
 * group's committed one when further, or its beginning. */
static int starts(struct hh_kafka *k, rd_kafka_topic_partition_list_t *pl)
{
    int n = pl->cnt;
    int32_t *ids = calloc((size_t)n + 1, sizeof *ids);
    int64_t *next = calloc((size_t)n + 1, sizeof *next);
    rd_kafka_topic_partition_list_t *c = rd_kafka_topic_partition_list_copy(pl);
    char why[256] = "";
    rd_kafka_resp_err_t cerr;
    int rc = HH_ENOMEM;

    if (!ids || !next)
        goto out;
    for (int i = 0; i < n; i++) {
        ids[i] = pl->elems[i].partition;
        next[i] = -1;
    }
    if ((rc = k->resume(k->resume_ctx, ids, next, n, why, sizeof why))) {
        fail(k, why[0] ? why : "reading the offsets decided failed");
        goto out;
    }
    cerr = rd_kafka_committed(k->cons, c, COMMITTED_TIMEOUT_MS);
    for (int i = 0; i < n; i++) {
        int64_t off = next[i], g = cerr ? -1 : c->elems[i].offset;

        if (g >= 0 && g > off)
            off = g;   /* another member decided and committed up to g */
        pl->elems[i].offset = off >= 0 ? off : RD_KAFKA_OFFSET_BEGINNING;
    }
    if (cerr) {
        lock(k);
        note_error(k, "committed offsets unknown (the database's are used)",
                   rd_kafka_err2str(cerr));
        unlock(k);
    }
out:
    rd_kafka_topic_partition_list_destroy(c);
    free(ids);
    free(next);
    return rc;
}

static void commit_late(struct hh_kafka *k);

static void assigned(struct hh_kafka *k, rd_kafka_topic_partition_list_t *pl)
{
    rd_kafka_resp_err_t err;
    char why[256];

    if (starts(k, pl)) {
        rd_kafka_assign(k->cons, NULL);
        return;
    }
    if ((err = rd_kafka_assign(k->cons, pl))) {   /* never a silent orphan */
        snprintf(why, sizeof why, "assigning %d partition(s) failed: %s", pl->cnt,
                 rd_kafka_err2str(err));
        fail(k, why);
        return;
    }
    k->in_generation = true;
    lock(k);
    k->st.nparts = 0;
    for (int i = 0; i < pl->cnt && i < HH_KAFKA_MAX_PARTS; i++) {
        int64_t off = pl->elems[i].offset;

        k->st.parts[i] = (struct hh_kafka_part){ .partition = pl->elems[i].partition,
                                                 .consumed = off >= 0 ? off : 0, .high = -1 };
        k->committed[i] = off >= 0 ? off : 0;
        k->st.nparts++;
    }
    k->st.assignments++;
    hh_feed__wake_locked(k->hub);
    unlock(k);
    if (k->pause_applied)
        rd_kafka_pause_partitions(k->cons, pl);
    commit_late(k);
}

/* Commit every consumed offset that moved, synchronously (a few ms on the
 * consumer thread; a failure is known and retried: nothing is marked
 * committed that the group did not take).  With `late`, what failed is
 * kept to be committed after the next assignment (a group may refuse
 * commits while it rebalances). */
/* A synchronous commit (the consumer's thread waits for the coordinator),
 * timed: its waits are what the messages behind it wait. */
static rd_kafka_resp_err_t timed_commit(struct hh_kafka *k, rd_kafka_topic_partition_list_t *pl)
{
    int64_t t0 = hh_feed__mono_ns();
    rd_kafka_resp_err_t err = rd_kafka_commit(k->cons, pl, 0);
    int64_t ns = hh_feed__mono_ns() - t0;

    lock(k);
    k->st.commits++;
    if (ns > k->st.commit_max_ns)
        k->st.commit_max_ns = ns;
    unlock(k);
    return err;
}

static void commit(struct hh_kafka *k, bool late)
{
    rd_kafka_topic_partition_list_t *pl = rd_kafka_topic_partition_list_new(HH_KAFKA_MAX_PARTS);
    int64_t before[HH_KAFKA_MAX_PARTS];
    int slot[HH_KAFKA_MAX_PARTS], n = 0;
    rd_kafka_resp_err_t err;

    lock(k);
    for (int i = 0; i < k->st.nparts; i++) {
        if (k->st.parts[i].consumed <= k->committed[i])
            continue;
        rd_kafka_topic_partition_list_add(pl, k->topic, k->st.parts[i].partition)->offset =
            k->st.parts[i].consumed;
        before[n] = k->committed[i];
        slot[n++] = i;
        k->committed[i] = k->st.parts[i].consumed;
    }
    unlock(k);
    if (n && (err = timed_commit(k, pl))) {
        lock(k);
        note_error(k, "commit (advisory) failed", rd_kafka_err2str(err));
        for (int j = 0; j < n; j++)
            k->committed[slot[j]] = before[j];
        unlock(k);
        if (late && !k->late) {
            k->late = pl;
            return;
        }
    }
    rd_kafka_topic_partition_list_destroy(pl);
}

/* The revocation's commit, refused while the group rebalanced: now (the
 * next assignment is there), else on the next housekeeping. */
static void commit_late(struct hh_kafka *k)
{
    rd_kafka_resp_err_t err;

    if (!k->late)
        return;
    err = rd_kafka_commit(k->cons, k->late, 0);
    if (err && ++k->late_tries < LATE_TRIES) {
        lock(k);
        note_error(k, "the revocation's commit, again", rd_kafka_err2str(err));
        unlock(k);
        return;
    }
    rd_kafka_topic_partition_list_destroy(k->late);
    k->late = NULL;
    k->late_tries = 0;
}

/* Under the lock: drop what the ring holds (undecided). */
static void purge_locked(struct hh_kafka *k)
{
    struct hh_kafka_msg m;

    while (hh_feed__ring_pop(k->hub, &k->ring, &m))
        hh_kafka_msg_free(&m);
}

static void revoked(struct hh_kafka *k)
{
    int64_t deadline = hh_feed__mono_ns() + REVOKE_WAIT;

    lock(k);
    purge_locked(k);
    k->revoke_req++;
    hh_feed__wake_locked(k->hub);
    while (k->revoke_ack != k->revoke_req && !k->detached && hh_feed__mono_ns() < deadline)
        wait_locked(k, &k->released);
    if (k->revoke_ack != k->revoke_req && !k->detached)
        note_error(k, "revocation", "the core did not answer in 30 s: committed what it had "
                   "reported");
    unlock(k);
    /* Still in the generation: no JoinGroup of ours is out yet.  A lost
     * assignment (session or poll interval exceeded) may be another
     * member's already: our older offsets must not overwrite its commits. */
    if (!rd_kafka_assignment_lost(k->cons))
        commit(k, true);
    k->in_generation = false;
    rd_kafka_assign(k->cons, NULL);
    lock(k);
    if (k->st.nparts)
        k->unassigned_ns = hh_feed__mono_ns();
    k->st.nparts = 0;
    k->st.revocations++;
    unlock(k);
}

static void on_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *pl, void *opaque)
{
    struct hh_kafka *k = opaque;

    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        assigned(k, pl);
    } else if (err == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS) {
        revoked(k);
    } else {
        lock(k);
        note_error(k, "rebalance", rd_kafka_err2str(err));
        unlock(k);
        k->in_generation = false;
        rd_kafka_assign(rk, NULL);
    }
}

/* ---- the consumer thread ------------------------------------------------------------ */

/* Copy a message into one allocation the core will own. */
static int copy_msg(struct hh_kafka *k, const rd_kafka_message_t *m, struct hh_kafka_msg *out)
{
    rd_kafka_headers_t *hdrs = NULL;
    const void *cv = NULL;
    size_t clen = 0, vlen = m->payload && m->len <= k->max_value ? m->len : 0;
    char *p;

    if (!rd_kafka_message_headers(m, &hdrs) &&
        rd_kafka_header_get_last(hdrs, "correlation_id", &cv, &clen))
        cv = NULL;
    memset(out, 0, sizeof *out);
    p = out->mem = malloc(m->key_len + clen + vlen + 3);
    if (!p)
        return HH_ENOMEM;
    out->partition = m->partition;
    out->offset = m->offset;
    out->full_len = m->payload ? m->len : 0;
    if (m->key) {
        out->key = memcpy(p, m->key, m->key_len);
        out->key_len = m->key_len;
        p += m->key_len;
    }
    if (cv) {
        out->corr = memcpy(p, cv, clen);
        p[clen] = '\0';
        out->corr_len = clen;
        p += clen + 1;
    }
    if (m->payload && m->len <= k->max_value) {
        out->value = memcpy(p, m->payload, vlen);
        p[vlen] = '\0';
        out->len = vlen;
    }
    return HH_OK;
}

static void housekeeping(struct hh_kafka *k);

/* Wait for room (commits, pauses and the tick go on meanwhile), then push;
 * false when the feed stops. */
static bool push(struct hh_kafka *k, struct hh_kafka_msg *it)
{
    bool ok;

    lock(k);
    while (!k->ring.stop && k->ring.n == k->ring.cap) {
        if (wait_locked(k, &k->hub->space)) {
            unlock(k);
            housekeeping(k);
            lock(k);
        }
    }
    ok = hh_feed__ring_push(k->hub, &k->ring, it);
    if (ok)
        k->st.fetched++;
    unlock(k);
    if (!ok)
        hh_kafka_msg_free(it);
    return ok;
}

static void apply_pause(struct hh_kafka *k)
{
    rd_kafka_topic_partition_list_t *pl = NULL;
    bool want;

    lock(k);
    want = k->pause_want;
    k->st.paused = want;
    unlock(k);
    if (want == k->pause_applied || rd_kafka_assignment(k->cons, &pl))
        return;
    if (want)
        rd_kafka_pause_partitions(k->cons, pl);
    else
        rd_kafka_resume_partitions(k->cons, pl);
    rd_kafka_topic_partition_list_destroy(pl);
    k->pause_applied = want;
}

/* Once a second: the high watermarks (cached from fetches; asked of the
 * broker while paused, when nothing is fetched), lag, the rate. */
static void tick(struct hh_kafka *k)
{
    int64_t hi[HH_KAFKA_MAX_PARTS];
    int32_t ids[HH_KAFKA_MAX_PARTS];
    int n;

    lock(k);
    n = k->st.nparts;
    for (int i = 0; i < n; i++)
        ids[i] = k->st.parts[i].partition;
    unlock(k);
    for (int i = 0; i < n; i++) {
        int64_t lo;

        hi[i] = -1;
        if (k->pause_applied)
            rd_kafka_query_watermark_offsets(k->cons, k->topic, ids[i], &lo, &hi[i], 500);
        else
            rd_kafka_get_watermark_offsets(k->cons, k->topic, ids[i], &lo, &hi[i]);
    }
    lock(k);
    k->st.seconds++;
    k->st.unassigned_s = k->st.nparts ? 0
                         : (uint64_t)((hh_feed__mono_ns() - k->unassigned_ns) / HH_NS_PER_S);
    for (int i = 0; i < n && i < k->st.nparts; i++) {
        struct hh_kafka_part *p = &k->st.parts[i];

        if (p->partition != ids[i] || hi[i] < 0)
            continue;
        p->high = hi[i];
        p->lag = hi[i] > p->consumed ? hi[i] - p->consumed : 0;
    }
    if (k->st.seconds % RATE_EVERY == 0) {
        k->st.rate = (double)(k->st.fetched - k->rate_base) / RATE_EVERY;
        k->rate_base = k->st.fetched;
    }
    hh_feed__wake_locked(k->hub);   /* the core may log the new figures */
    unlock(k);
}

static void housekeeping(struct hh_kafka *k)
{
    int64_t now = hh_feed__mono_ns();

    apply_pause(k);
    /* Only inside a generation: a commit sent after our revocation carries
     * the old generation and waits behind our JoinGroup; its answer,
     * ILLEGAL_GENERATION, comes just after the new generation, and
     * librdkafka before 2.10 (its issue #4059) then forgets that generation:
     * the SyncGroup fails, the member joins again, the commit retried
     * meanwhile does the same, and a lone member is never assigned anything. */
    if (k->in_generation && now - k->last_commit_ns >= COMMIT_EVERY) {
        k->last_commit_ns = now;
        commit_late(k);
        commit(k, false);
    }
    if (now - k->last_tick_ns >= HH_NS_PER_S) {
        k->last_tick_ns = now;
        tick(k);
    }
}

static void consumer_error(struct hh_kafka *k, const rd_kafka_message_t *m)
{
    lock(k);
    k->st.consumer_errors++;
    note_error(k, "consumer", rd_kafka_message_errstr(m));
    unlock(k);
}

static void *consumer_main(void *arg)
{
    struct hh_kafka *k = arg;
    rd_kafka_topic_partition_list_t *sub = rd_kafka_topic_partition_list_new(1);
    rd_kafka_resp_err_t err;

    rd_kafka_topic_partition_list_add(sub, k->topic, RD_KAFKA_PARTITION_UA);
    err = rd_kafka_subscribe(k->cons, sub);
    rd_kafka_topic_partition_list_destroy(sub);
    if (err) {
        fail(k, rd_kafka_err2str(err));
        return NULL;
    }
    k->last_commit_ns = k->last_tick_ns = k->unassigned_ns = hh_feed__mono_ns();
    while (!hh_feed__ring_stopping(k->hub, &k->ring)) {
        rd_kafka_message_t *m;
        struct hh_kafka_msg it;

        housekeeping(k);
        if (!(m = rd_kafka_consumer_poll(k->cons, POLL_MS)))
            continue;
        if (m->err) {
            consumer_error(k, m);
        } else if (copy_msg(k, m, &it)) {
            /* never hand over the messages after one that was lost */
            fail(k, "out of memory copying a message");
            rd_kafka_message_destroy(m);
            break;
        } else if (!push(k, &it)) {
            rd_kafka_message_destroy(m);
            break;
        }
        rd_kafka_message_destroy(m);
    }
    return NULL;
}

/* ---- the producer ---------------------------------------------------------------------- */

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    struct hh_kafka *k = opaque;
    struct hh_kafka_ack a = { .seq = (uint64_t)(uintptr_t)m->_private,
                              .rc = m->err ? HH_EIO : HH_OK };

    (void)rk;
    if (m->err)
        snprintf(a.why, sizeof a.why, "%s", rd_kafka_err2name(m->err));
    lock(k);
    if (k->nacks == k->capacks && k->ackhead) {   /* reuse what was taken */
        memmove(k->acks, k->acks + k->ackhead, (k->nacks - k->ackhead) * sizeof *k->acks);
        k->nacks -= k->ackhead;
        k->ackhead = 0;
    }
    if (k->nacks == k->capacks) {
        size_t cap = k->capacks ? 2 * k->capacks : 256;
        struct hh_kafka_ack *n = realloc(k->acks, cap * sizeof *n);

        if (!n) {   /* the row stays unsent: produced again at the next start */
            note_error(k, "producer", "out of memory keeping a delivery report");
            unlock(k);
            return;
        }
        k->acks = n;
        k->capacks = cap;
    }
    k->acks[k->nacks++] = a;
    if (m->err) {
        k->st.produce_failed++;
        note_error(k, "delivery failed", rd_kafka_err2str(m->err));
    } else {
        k->st.produced++;
    }
    hh_feed__wake_locked(k->hub);
    unlock(k);
}

/* A producer in a fatal state (the idempotence guarantees broken) is
 * replaced; what it held is reported failed, to be produced again. */
static void replace_producer(struct hh_kafka *k, const char *why)
{
    struct hh_diag d;
    rd_kafka_t *fresh;

    lock(k);
    note_error(k, "producer replaced after a fatal error", why);
    unlock(k);
    pthread_mutex_lock(&k->pmu);
    rd_kafka_purge(k->prod, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    rd_kafka_poll(k->prod, 0);
    fresh = client(k, RD_KAFKA_PRODUCER, &d);
    if (fresh) {
        rd_kafka_destroy(k->prod);
        k->prod = fresh;
    }
    pthread_mutex_unlock(&k->pmu);
}

static void *producer_main(void *arg)
{
    struct hh_kafka *k = arg;

    for (;;) {
        char why[256];
        bool stop;

        lock(k);
        stop = k->pstop;
        unlock(k);
        if (stop)
            break;
        rd_kafka_poll(k->prod, POLL_MS);
        if (rd_kafka_fatal_error(k->prod, why, sizeof why))
            replace_producer(k, why);
    }
    return NULL;
}

int hh_kafka_produce(struct hh_kafka *k, const struct hh_kafka_out *m, struct hh_diag *d)
{
    rd_kafka_headers_t *h = rd_kafka_headers_new(3);
    rd_kafka_resp_err_t err;

    if (m->reason)
        rd_kafka_header_add(h, "reason", -1, m->reason, -1);
    if (m->corr)
        rd_kafka_header_add(h, "correlation_id", -1, m->corr, -1);
    if (m->event_id)
        rd_kafka_header_add(h, "event_id", -1, m->event_id, -1);
    pthread_mutex_lock(&k->pmu);
    err = rd_kafka_producev(k->prod, RD_KAFKA_V_TOPIC(m->topic),
                            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                            RD_KAFKA_V_KEY(m->key, m->key ? strlen(m->key) : 0),
                            RD_KAFKA_V_VALUE((void *)m->value, m->len), RD_KAFKA_V_HEADERS(h),
                            RD_KAFKA_V_OPAQUE((void *)(uintptr_t)m->seq), RD_KAFKA_V_END);
    pthread_mutex_unlock(&k->pmu);
    if (!err)
        return HH_OK;
    rd_kafka_headers_destroy(h);
    if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL)
        return HH_EFULL;
    return hh_diag_set(d, HH_EIO, "kafka: producing to %s: %s", m->topic,
                       rd_kafka_err2str(err));
}

size_t hh_kafka_acks(struct hh_kafka *k, struct hh_kafka_ack *out, size_t max)
{
    size_t n;

    lock(k);
    n = k->nacks - k->ackhead < max ? k->nacks - k->ackhead : max;
    if (n == 0) {       /* acks may still be NULL: memcpy wants pointers */
        unlock(k);
        return 0;
    }
    memcpy(out, k->acks + k->ackhead, n * sizeof *out);
    k->ackhead += n;
    if (k->ackhead == k->nacks)
        k->ackhead = k->nacks = 0;
    unlock(k);
    return n;
}

/* ---- the core's side -------------------------------------------------------------------- */

int hh_kafka_pop(struct hh_kafka *k, struct hh_kafka_msg *out)
{
    int got;

    lock(k);
    got = hh_feed__ring_pop(k->hub, &k->ring, out);
    unlock(k);
    return got;
}

bool hh_kafka_revoking(struct hh_kafka *k)
{
    bool r;

    lock(k);
    r = k->revoke_req != k->revoke_ack;
    unlock(k);
    return r;
}

void hh_kafka_released(struct hh_kafka *k)
{
    lock(k);
    k->revoke_ack = k->revoke_req;
    pthread_cond_broadcast(&k->released);
    unlock(k);
}

void hh_kafka_consumed(struct hh_kafka *k, int32_t partition, int64_t offset)
{
    lock(k);
    for (int i = 0; i < k->st.nparts; i++) {
        struct hh_kafka_part *p = &k->st.parts[i];

        if (p->partition != partition || offset + 1 <= p->consumed)
            continue;
        p->consumed = offset + 1;
        if (p->high >= 0)
            p->lag = p->high > p->consumed ? p->high - p->consumed : 0;
    }
    unlock(k);
}

void hh_kafka_pause(struct hh_kafka *k, bool paused)
{
    lock(k);
    k->pause_want = paused;
    unlock(k);
}

void hh_kafka_status(struct hh_kafka *k, struct hh_kafka_status *out)
{
    lock(k);
    *out = k->st;
    unlock(k);
}

/* ---- start and stop ---------------------------------------------------------------------- */

static int copy_opts(struct hh_kafka *k, const struct hh_kafka_opts *o)
{
    k->brokers = strdup(o->brokers ? o->brokers : "");
    k->topic = o->topic ? strdup(o->topic) : NULL;
    k->group = strdup(o->group ? o->group : "hedgehog");
    k->props = calloc(2 * (size_t)o->nprops + 1, sizeof *k->props);
    if (!k->brokers || (o->topic && !k->topic) || !k->group || !k->props)
        return HH_ENOMEM;
    k->nprops = o->nprops;   /* free() of the unset ones is a no-op */
    for (int i = 0; i < 2 * o->nprops; i++)
        if (!(k->props[i] = strdup(o->props[i])))
            return HH_ENOMEM;
    k->resume = o->resume;
    k->resume_ctx = o->resume_ctx;
    k->max_value = o->max_value ? o->max_value : HH_KAFKA_MAX_VALUE;
    return HH_OK;
}

static int start_threads(struct hh_kafka *k, struct hh_diag *d)
{
    if (pthread_create(&k->pthread, NULL, producer_main, k))
        return hh_diag_set(d, HH_ENOMEM, "kafka: cannot start the producer thread");
    k->pstarted = true;
    if (k->cons && pthread_create(&k->cthread, NULL, consumer_main, k))
        return hh_diag_set(d, HH_ENOMEM, "kafka: cannot start the consumer thread");
    k->cstarted = k->cons != NULL;
    return HH_OK;
}

int hh_kafka_start(struct hh_feed_hub *h, const struct hh_kafka_opts *o, struct hh_kafka **out,
                   struct hh_diag *d)
{
    struct hh_kafka *k = calloc(1, sizeof *k);
    int rc;

    *out = NULL;
    if (!k)
        return hh_diag_set(d, HH_ENOMEM, "out of memory");
    k->hub = h;
    hh_feed__ring_init(&k->ring, k->slots, sizeof k->slots[0], RING);
    pthread_mutex_init(&k->pmu, NULL);
    pthread_cond_init(&k->released, NULL);
    if ((rc = copy_opts(k, o))) {
        hh_diag_set(d, rc, "out of memory");
        goto fail;
    }
    if (!(k->prod = client(k, RD_KAFKA_PRODUCER, d)) ||
        (k->topic && !(k->cons = client(k, RD_KAFKA_CONSUMER, d)))) {
        rc = HH_EINVAL;   /* a property refused, or the client not created: d says */
        goto fail;
    }
    if ((rc = start_threads(k, d)))
        goto fail;
    *out = k;
    return HH_OK;
fail:
    hh_kafka_free(k);
    return rc;
}

void hh_kafka_stop(struct hh_kafka *k, int timeout_ms)
{
    if (!k)
        return;
    lock(k);
    k->detached = true;
    pthread_cond_broadcast(&k->released);
    unlock(k);
    hh_feed__ring_stop(k->hub, &k->ring);
    if (k->cstarted) {
        pthread_join(k->cthread, NULL);
        k->cstarted = false;
        rd_kafka_consumer_close(k->cons);   /* the revocation commits */
    }
    if (k->pstarted) {
        lock(k);
        k->pstop = true;
        unlock(k);
        pthread_join(k->pthread, NULL);
        k->pstarted = false;
        rd_kafka_flush(k->prod, timeout_ms);
    }
}

void hh_kafka_free(struct hh_kafka *k)
{
    if (!k)
        return;
    hh_kafka_stop(k, 0);
    lock(k);
    purge_locked(k);
    unlock(k);
    if (k->late)
        rd_kafka_topic_partition_list_destroy(k->late);
    if (k->cons)
        rd_kafka_destroy(k->cons);
    if (k->prod) {
        rd_kafka_purge(k->prod, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
        rd_kafka_destroy(k->prod);
    }
    for (int i = 0; k->props && i < 2 * k->nprops; i++)
        free(k->props[i]);
    free(k->props);
    free(k->brokers);
    free(k->topic);
    free(k->group);
    free(k->acks);
    pthread_cond_destroy(&k->released);
    pthread_mutex_destroy(&k->pmu);
    free(k);
}
