/*
 * run_kafka.c — `hedgehog run` with `signals.source: kafka` (SPEC §14): the
 * Kafka feed's messages decided as the core's loop source, dead letters and
 * events through the outbox, offsets reported consumed once durable.
 *
 * A message is decided exactly once:
 *   - its decision (signals row naming topic, partition, offset; audit;
 *     dead letter's outbox row) is one step, ONE transaction, and the
 *     message's (topic, partition, offset) is unique in the database;
 *   - the feed starts every partition it is assigned at the database's last
 *     offset + 1 (or further, where the group committed — the commits this
 *     engine makes only ever cover what is durable here), so what is
 *     durable is never read again and nothing after it is skipped;
 *   - a message the core popped but did not decide before a revocation is
 *     dropped (whoever gets the partition reads it from the durable offset);
 *     one it decided is made durable before the partition is let go;
 *   - a crash loses only undecided messages and uncommitted steps: both are
 *     read again from the durable offset.
 *
 * The outbox: every dead letter and event is a row written in the step of
 * what it describes; it is produced only once that step is committed
 * (journal last_seq moved past the row, and the store committed that far),
 * in seq order, and marked sent (OUTBOX_SENT) on its delivery report.  A
 * restart produces every unsent row again (duplicates possible, gaps
 * never).  A message's offset is reported consumed to the feed (advisory
 * commit) once its decision is durable and its dead letter, if any, is
 * acknowledged.  A dead letter that cannot be written pauses consumption
 * and makes the `signals` component DOWN until one is written again;
 * failed rows are produced again each second of the feed, events from the
 * first failed one on (in order; consumers drop repeats by event_id).
 */
#include "app/run.h"

#include "core/digest.h"
#include "core/grow.h"
#include "feed/kafka.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BATCH 512                      /* messages decided in one step at most */
#define ACKS 256                       /* delivery reports taken at once */
#define LOG_EVERY 10                   /* seconds of the feed between status lines */
#define UNASSIGNED_DOWN 30             /* seconds without a partition: signals DOWN (a
                                          rebalance takes ~3-10 s) */
#define DLQ_MAX 900000                 /* bytes of a dead letter carrying its value */
#define HEX_MAX 65536                  /* bytes of a non-text value shown as hex */

/* A row of the outbox, in memory until acknowledged. */
struct obx {
    uint64_t seq;
    uint64_t after;                    /* journal last_seq when written */
    uint64_t durable_at;               /* store seq that makes it durable (0: not known) */
    enum hh_store_outbox_kind kind;
    bool produced;                     /* given to the producer, no report yet */
    bool failed;                       /* its last delivery failed: produce again */
    bool acked;
    char *topic, *key, *reason, *corr, *payload;   /* one allocation: topic */
    char event_id[48];
};

/* A message decided, until reported consumed. */
struct dec {
    int32_t partition;
    int64_t offset;
    uint64_t after, durable_at;        /* as struct obx */
    uint64_t dlq;                      /* its dead letter's outbox seq, 0: none */
};

struct run_kafka {
    struct hh_kafka *k;
    const char *topic, *dlq_topic, *events_topic;   /* the config's ("" events: none) */
    struct hh_kafka_msg msg;           /* popped, not decided (held) */
    bool held;
    struct obx *ob;                    /* ob[obhead..nob): seq order */
    size_t obhead, nob, capob;
    size_t due;                        /* ob[due..nob): never given to the producer */
    struct dec *dec;                   /* dec[dechead..ndec): decision order */
    size_t dechead, ndec, capdec;
    uint64_t next_seq;                 /* of the outbox */
    char instance[17];                 /* event id prefix: unique per process */
    struct hh_json ev;                 /* the event being written */
    char ev_type[24], ev_key[HH_SIG_TEXT_MAX], ev_corr[HH_SIG_TEXT_MAX], ev_id[48];
    bool ev_open;
    bool dlq_down;
    char dlq_why[256];                 /* why the dead-letter topic is down */
    bool failed_logged;
    bool unassigned_logged;            /* kafka_unassigned said, no partition since */
    uint64_t seconds;                  /* the feed's, at the last retry */
    uint64_t assignments, revocations, logged_at;
    uint64_t decided, dlq_written, dlq_failed, events_sent;
};

static hh_time_t now_of(const struct run *R)
{
    return R->clock.now;
}

/* ---- the outbox --------------------------------------------------------------------- */

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

static void obx_free(struct obx *o)
{
    free(o->topic);
    free(o->key);
    free(o->reason);
    free(o->corr);
    free(o->payload);
}

/* Remember row o (its strings are copied) until it is acknowledged. */
static int obx_add(struct run_kafka *K, const struct hh_store_outbox *o, uint64_t after,
                   uint64_t durable_at, const char *event_id)
{
    struct obx *x;

    if (hh_grow(&K->ob, &K->capob, K->nob + 1, sizeof *K->ob))
        return HH_ENOMEM;
    x = &K->ob[K->nob];
    memset(x, 0, sizeof *x);
    x->seq = o->seq;
    x->kind = o->kind;
    x->after = after;
    x->durable_at = durable_at;
    x->topic = strdup(o->topic);
    x->key = dup_or_null(o->key);
    x->reason = dup_or_null(o->reason);
    x->corr = dup_or_null(o->correlation_id);
    x->payload = strdup(o->payload);
    snprintf(x->event_id, sizeof x->event_id, "%s", event_id ? event_id : "");
    if (!x->topic || !x->payload || (o->key && !x->key) || (o->reason && !x->reason) ||
        (o->correlation_id && !x->corr)) {
        obx_free(x);
        return HH_ENOMEM;
    }
    K->nob++;
    return HH_OK;
}

/* A new row in the current step, remembered for producing.  HH_OK, or
 * the journal's latched failure (the run stops). */
static int outbox_write(struct run *R, struct hh_store_outbox *o, const char *event_id)
{
    struct run_kafka *K = R->kafka;
    int rc;

    o->seq = K->next_seq++;
    o->at = now_of(R);   /* HH_TIME_NONE: the step's time */
    if ((rc = hh_journal_outbox_step(R->db, o)))
        return rc;
    return obx_add(K, o, hh_journal_last_seq(R->db), 0, event_id);
}

/* Durable: a later group holding it was submitted, and committed. */
static bool durable(struct run *R, uint64_t after, uint64_t *durable_at)
{
    uint64_t last = hh_journal_last_seq(R->db);

    if (!*durable_at && last > after)
        *durable_at = last;
    return *durable_at && hh_store_committed(hh_journal_store(R->db)) >= *durable_at;
}

static void produce_one(struct run *R, struct obx *x)
{
    struct run_kafka *K = R->kafka;
    struct hh_kafka_out m = { .seq = x->seq, .topic = x->topic, .key = x->key,
                              .value = x->payload, .len = strlen(x->payload),
                              .reason = x->reason, .corr = x->corr,
                              .event_id = x->event_id[0] ? x->event_id : NULL };
    struct hh_diag d;
    int rc = hh_kafka_produce(K->k, &m, &d);

    if (rc == HH_OK) {
        x->produced = true;
        x->failed = false;
        return;
    }
    x->failed = true;
    if (x->kind == HH_OUTBOX_DEAD_LETTER && !K->dlq_down) {
        K->dlq_down = true;
        snprintf(K->dlq_why, sizeof K->dlq_why, "dead-letter topic %.60s: %.120s", x->topic,
                 rc == HH_EFULL ? "the producer's queue is full" : d.msg);
        hh_kafka_pause(K->k, true);
        HH_JLOG(&R->log, HH_LOG_ERROR, now_of(R), "dlq_down", x->corr,
                "%s: consumption paused until a dead letter is written", K->dlq_why);
    }
}

/* Produce every durable row not yet given to the producer, in seq order
 * (from `due` on: each row is looked at once); with retry (once a second),
 * also the failed ones (events: every one after the first failed event
 * again, so the topic sees them in order). */
static void produce_due(struct run *R, bool retry)
{
    struct run_kafka *K = R->kafka;
    bool ev_failed = false;

    for (size_t i = retry ? K->obhead : K->due; i < K->nob; i++) {
        struct obx *x = &K->ob[i];
        bool again = retry && (x->failed || (x->kind == HH_OUTBOX_EVENT && ev_failed));

        if (x->kind == HH_OUTBOX_EVENT && x->failed)
            ev_failed = true;
        if (i < K->due && !again)
            continue;
        if (!durable(R, x->after, &x->durable_at))
            break;   /* later rows are not durable either */
        produce_one(R, x);
        if (i == K->due)
            K->due++;
    }
}

/* Drop the acknowledged rows at the head (events stay until every earlier
 * one is acknowledged: a retry resends them in order). */
static void outbox_compact(struct run_kafka *K)
{
    while (K->obhead < K->nob && K->ob[K->obhead].acked)
        obx_free(&K->ob[K->obhead++]);
    if (K->obhead == K->nob) {
        K->obhead = K->nob = K->due = 0;
    } else if (K->obhead > K->nob / 2) {   /* amortised: each row moves O(1) times */
        memmove(K->ob, K->ob + K->obhead, (K->nob - K->obhead) * sizeof *K->ob);
        K->nob -= K->obhead;
        K->due -= K->obhead;   /* acknowledged rows were produced: due >= obhead */
        K->obhead = 0;
    }
}

static struct obx *obx_find(struct run_kafka *K, uint64_t seq)
{
    size_t lo = K->obhead, hi = K->nob;

    while (lo < hi) {   /* seq order */
        size_t mid = lo + (hi - lo) / 2;

        if (K->ob[mid].seq < seq)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < K->nob && K->ob[lo].seq == seq ? &K->ob[lo] : NULL;
}

/* A dead letter acknowledged (its message stops waiting for it: see
 * report_consumed). */
static void dlq_acked(struct run *R)
{
    struct run_kafka *K = R->kafka;

    K->dlq_written++;
    if (K->dlq_down) {
        K->dlq_down = false;
        hh_kafka_pause(K->k, false);
        HH_JLOG(&R->log, HH_LOG_WARN, now_of(R), "dlq_up", NULL,
                "dead letters are written again: consumption resumed");
    }
}

static void ack_failed(struct run *R, struct obx *x, const struct hh_kafka_ack *a)
{
    struct run_kafka *K = R->kafka;

    x->failed = true;
    if (x->kind != HH_OUTBOX_DEAD_LETTER)
        return;
    K->dlq_failed++;
    if (!K->dlq_down) {
        K->dlq_down = true;
        snprintf(K->dlq_why, sizeof K->dlq_why,
                 "dead-letter topic %.60s: delivery failed: %.96s", x->topic, a->why);
        hh_kafka_pause(K->k, true);
        HH_JLOG(&R->log, HH_LOG_ERROR, now_of(R), "dlq_down", x->corr,
                "%s: consumption paused until a dead letter is written", K->dlq_why);
    }
}

/* Delivery reports: rows acknowledged are marked sent (one group). */
static void take_acks(struct run *R)
{
    struct run_kafka *K = R->kafka;
    struct hh_kafka_ack a[ACKS];
    struct hh_store_rec recs[ACKS];
    size_t n, nrec = 0;
    struct hh_diag d;

    while ((n = hh_kafka_acks(K->k, a, ACKS)) > 0) {
        nrec = 0;
        for (size_t i = 0; i < n; i++) {
            struct obx *x = obx_find(K, a[i].seq);

            if (!x || x->acked)
                continue;   /* a duplicate's report: already sent */
            x->produced = false;
            if (a[i].rc) {
                ack_failed(R, x, &a[i]);
                continue;
            }
            x->acked = true;
            x->failed = false;
            recs[nrec++] = (struct hh_store_rec){ .kind = HH_STORE_OUTBOX_SENT,
                                                  .u.outbox_sent.seq = x->seq };
            if (x->kind == HH_OUTBOX_DEAD_LETTER)
                dlq_acked(R);
            else
                K->events_sent++;
        }
        if (nrec && !R->failed &&
            hh_store_submit(hh_journal_store(R->db), recs, nrec, 0, NULL, &d))
            run_fatal_db(R);
        outbox_compact(K);
    }
}

/* ---- decisions: consumed once durable ------------------------------------------------- */

static int dec_add(struct run *R, const struct hh_kafka_msg *m, uint64_t dlq)
{
    struct run_kafka *K = R->kafka;

    if (hh_grow(&K->dec, &K->capdec, K->ndec + 1, sizeof *K->dec))
        return HH_ENOMEM;
    K->dec[K->ndec++] = (struct dec){ .partition = m->partition, .offset = m->offset,
                                      .after = hh_journal_last_seq(R->db), .dlq = dlq };
    return HH_OK;
}

/* Report consumed, in decision order, what is durable and acknowledged;
 * all: everything (the step was flushed: a revocation or the end; dead
 * letters still pending stay in the outbox, produced by this database). */
static void report_consumed(struct run *R, bool all)
{
    struct run_kafka *K = R->kafka;

    while (K->dechead < K->ndec) {
        struct dec *e = &K->dec[K->dechead];
        struct obx *x = e->dlq ? obx_find(K, e->dlq) : NULL;   /* gone: acknowledged */

        if (!all && ((x && !x->acked) || !durable(R, e->after, &e->durable_at)))
            break;
        hh_kafka_consumed(K->k, e->partition, e->offset);
        K->dechead++;
    }
    if (K->dechead == K->ndec) {
        K->dechead = K->ndec = 0;
    } else if (K->dechead > K->ndec / 2) {   /* amortised, as the outbox */
        memmove(K->dec, K->dec + K->dechead, (K->ndec - K->dechead) * sizeof *K->dec);
        K->ndec -= K->dechead;
        K->dechead = 0;
    }
}

/* ---- deciding one message -------------------------------------------------------------- */

/* Text a header or value may be: valid UTF-8 without NUL (and, ctl,
 * without any control character). */
static bool text_ok(const char *s, size_t n, bool ctl)
{
    const unsigned char *p = (const unsigned char *)s;

    for (size_t i = 0; i < n;) {
        size_t k = hh_json_utf8_len(p + i, n - i);

        if (!k || !p[i] || (ctl && (p[i] < 0x20 || p[i] == 0x7f)))
            return false;
        i += k;
    }
    return true;
}

/* The message's correlation_id header, when it can be one (SPEC §14). */
static const char *header_corr(const struct hh_kafka_msg *m)
{
    if (!m->corr || !m->corr_len || m->corr_len >= HH_SIG_TEXT_MAX ||
        !text_ok(m->corr, m->corr_len, true))
        return NULL;
    return m->corr;
}

/* A poison message (SPEC §14): PARSE_ERROR before any parsing, received
 * now. */
static bool poison(const struct hh_kafka_msg *m, hh_time_t now, struct hh_sig_reject *rej)
{
    if (m->full_len > HH_KAFKA_MAX_VALUE)
        hh_sig_reject_set(rej, HH_SIG_PARSE_ERROR, now,
                          "message value of %zu bytes, over the limit of %d", m->full_len,
                          HH_KAFKA_MAX_VALUE);
    else if (!m->value || hh_sig_line_blank(m->value, m->len))
        hh_sig_reject_set(rej, HH_SIG_PARSE_ERROR, now, "empty message");
    else if (!text_ok(m->value, m->len, false))
        hh_sig_reject_set(rej, HH_SIG_PARSE_ERROR, now, "message value is not UTF-8 text");
    else
        return false;
    return true;
}

/* The value as the dead letter carries it: text when it is, else hex
 * when short, else only its size and SHA-256. */
static void dl_value(struct hh_json *w, const struct hh_kafka_msg *m, bool text)
{
    char sha[HH_DIGEST_HEX];

    if (text && m->len <= DLQ_MAX - 4096) {
        hh_json_strn(w, "value", m->value, m->len);
        return;
    }
    hh_json_null(w, "value");
    hh_json_uint(w, "value_bytes", m->full_len);
    if (m->value && m->len <= HEX_MAX) {
        char *hex = malloc(2 * m->len + 1);

        for (size_t i = 0; hex && i < m->len; i++)
            snprintf(hex + 2 * i, 3, "%02x", (unsigned char)m->value[i]);
        if (hex) {
            hex[2 * m->len] = '\0';
            hh_json_str(w, "value_hex", hex);
        }
        free(hex);
    } else if (m->value && !hh_digest_hex(m->value, m->len, sha)) {
        hh_json_str(w, "value_sha256", sha);
    }
}

/* The dead letter (SPEC §4's object plus topic, partition, offset, the
 * original value) into the outbox of this step. */
static int dead_letter(struct run *R, const struct hh_kafka_msg *m,
                       const struct hh_sig_reject *rej, const char *corr, bool text,
                       uint64_t *seq)
{
    struct run_kafka *K = R->kafka;
    char buf[4096], key[HH_SIG_TEXT_MAX];
    struct hh_json w;
    struct hh_store_outbox o = { .kind = HH_OUTBOX_DEAD_LETTER, .topic = K->dlq_topic,
                                 .reason = hh_sig_reason_name(rej->reason),
                                 .correlation_id = corr };
    int rc;

    if (m->key && m->key_len < sizeof key && text_ok(m->key, m->key_len, false)) {
        memcpy(key, m->key, m->key_len);
        key[m->key_len] = '\0';
        o.key = key;
    }
    hh_json_init(&w, 0, buf, sizeof buf);
    hh_json_begin_object(&w, NULL, false);
    if (rej->id_known)
        hh_json_str(&w, "id", rej->id);
    else
        hh_json_null(&w, "id");
    hh_json_uint(&w, "line", (uint64_t)m->offset + 1);
    hh_json_str(&w, "reason", hh_sig_reason_name(rej->reason));
    hh_json_str(&w, "detail", rej->detail);
    hh_json_time(&w, "received_at", rej->received_at);
    hh_json_str(&w, "topic", K->topic);
    hh_json_int(&w, "partition", m->partition);
    hh_json_int(&w, "offset", m->offset);
    hh_json_str(&w, "correlation_id", corr);
    dl_value(&w, m, text);
    hh_json_end_object(&w);
    o.payload = hh_json_text(&w);
    rc = hh_json_status(&w);
    if (!rc)
        rc = outbox_write(R, &o, NULL);
    *seq = o.seq;
    hh_json_free(&w);
    return rc;
}

/* Decide one message: its records (and dead letter) join the step. */
static void decide(struct run *R, const struct hh_kafka_msg *m)
{
    struct run_kafka *K = R->kafka;
    const char *hcorr = header_corr(m), *corr;
    struct hh_journal_origin org = { .topic = K->topic, .partition = m->partition,
                                     .offset = m->offset, .corr = hcorr };
    uint64_t lineno = (uint64_t)m->offset + 1, dlq = 0;
    struct hh_sig_reject rej;
    struct hh_signal s;
    bool text = !poison(m, now_of(R), &rej), ok = false;

    R->taken++;
    K->decided++;
    if (text)   /* a live source: received now unless the signal says */
        ok = hh_sig_process_any(R->v, m->value, m->len, lineno, now_of(R), &s, R->g, &rej);
    /* the header unless the signal names one (validation defaults it to
     * the id: one equal to the id counts as none named) */
    if (ok && hcorr && !strcmp(s.correlation_id, s.id))
        snprintf(s.correlation_id, sizeof s.correlation_id, "%s", hcorr);
    corr = ok ? hh_signal_corr(&s) : hcorr ? hcorr : rej.id_known ? rej.id : NULL;
    if (hh_journal_message_step(R->db, &org, text ? m->value : NULL, m->len, lineno,
                                ok ? &s : NULL, ok ? NULL : &rej) ||
        (!ok && dead_letter(R, m, &rej, corr, text, &dlq)) || dec_add(R, m, dlq)) {
        run_fatal_db(R);
        return;
    }
    R->cur.w[RUN_CUR_RECEIVED]++;
    if (ok)
        run_accepted(R, &s, lineno);
    else
        run_rejected(R, &rej, lineno, corr);
}

/* ---- housekeeping on every visit of the loop ------------------------------------------ */

static void log_status(struct run *R, const struct hh_kafka_status *st)
{
    struct run_kafka *K = R->kafka;
    struct run_kafka_health h;
    char lag[512] = "";
    size_t used = 0;
    int64_t total = 0;

    for (int i = 0; i < st->nparts && used < sizeof lag - 32; i++) {
        used += (size_t)snprintf(lag + used, sizeof lag - used, "%sp%d=%lld", i ? " " : "",
                                 st->parts[i].partition, (long long)st->parts[i].lag);
        total += st->parts[i].lag;
    }
    run_kafka_health(R, &h);
    HH_JLOG(&R->log, h.up ? HH_LOG_INFO : HH_LOG_WARN, now_of(R), "kafka_status", NULL,
            "signals=%s%s%s topic=%s partitions=%d unassigned_s=%llu lag=%lld (%s) rate=%.0f/s "
            "fetched=%llu decided=%llu dlq_writes=%llu dlq_failed=%llu outbox_pending=%zu "
            "events_sent=%llu consumer_errors=%llu commits=%llu commit_max_ms=%.1f "
            "paused=%s%s%s", h.up ? "UP" : "DOWN",
            h.up ? "" : " why=", h.why, K->topic, st->nparts,
            (unsigned long long)st->unassigned_s, (long long)total, lag, st->rate,
            (unsigned long long)st->fetched, (unsigned long long)K->decided,
            (unsigned long long)K->dlq_written, (unsigned long long)K->dlq_failed,
            K->nob - K->obhead,
            (unsigned long long)K->events_sent, (unsigned long long)st->consumer_errors,
            (unsigned long long)st->commits, (double)st->commit_max_ns / HH_NS_PER_MS,
            st->paused ? "yes" : "no",
            st->last_error[0] ? " last_error=" : "", st->last_error);
}

/* A member left without partitions consumes nothing: say so once it lasts
 * (every partition held by other members, or a group that cannot finish
 * its rebalance), and when partitions come back. */
static void watch_assignment(struct run *R, const struct hh_kafka_status *st)
{
    struct run_kafka *K = R->kafka;

    if (st->nparts && K->unassigned_logged) {
        K->unassigned_logged = false;
        HH_JLOG(&R->log, HH_LOG_INFO, now_of(R), "kafka_assigned", NULL,
                "topic=%s partitions now %d: consuming again", K->topic, st->nparts);
    } else if (!st->nparts && st->unassigned_s >= UNASSIGNED_DOWN && !K->unassigned_logged) {
        K->unassigned_logged = true;
        HH_JLOG(&R->log, HH_LOG_WARN, now_of(R), "kafka_unassigned", NULL,
                "topic=%s group=%s: no partition assigned for %llu s: this engine consumes "
                "no signal", K->topic, R->w.cfg.signals.kafka.group,
                (unsigned long long)st->unassigned_s);
    }
}

/* What the feed says: assignments, failure, the tick (retries, status). */
static void watch_feed(struct run *R)
{
    struct run_kafka *K = R->kafka;
    struct hh_kafka_status st;

    hh_kafka_status(K->k, &st);
    if (st.assignments != K->assignments || st.revocations != K->revocations) {
        K->assignments = st.assignments;
        K->revocations = st.revocations;
        HH_JLOG(&R->log, HH_LOG_INFO, now_of(R), "kafka_rebalance", NULL,
                "topic=%s assignments=%llu revocations=%llu partitions now %d", K->topic,
                (unsigned long long)st.assignments, (unsigned long long)st.revocations,
                st.nparts);
    }
    watch_assignment(R, &st);
    if (st.failed && !K->failed_logged) {
        K->failed_logged = true;
        hh_diag_set(&R->d, HH_EIO, "kafka: %s", st.why);
        HH_JLOG(&R->log, HH_LOG_ERROR, now_of(R), "kafka_failed", NULL,
                "%s: no message is consumed any more; stopping", st.why);
        R->failed = true;
    }
    if (st.seconds != K->seconds) {
        K->seconds = st.seconds;
        produce_due(R, true);
        if (st.seconds - K->logged_at >= LOG_EVERY) {
            K->logged_at = st.seconds;
            log_status(R, &st);
        }
    }
}

/* A revocation waits: drop what is held undecided, make the decisions
 * durable, report them, let the partitions go. */
static void release(struct run *R)
{
    struct run_kafka *K = R->kafka;
    struct hh_diag fd;

    if (K->held) {
        hh_kafka_msg_free(&K->msg);
        K->held = false;
    }
    run_commit(R);
    if (!R->failed && hh_store_flush(hh_journal_store(R->db), &fd))
        run_fatal_db(R);
    if (!R->failed)
        report_consumed(R, true);
    hh_kafka_released(K->k);
}

static void service(struct run *R)
{
    struct run_kafka *K = R->kafka;

    if (hh_kafka_revoking(K->k))
        release(R);
    take_acks(R);
    report_consumed(R, false);
    produce_due(R, false);
    watch_feed(R);
}

/* ---- the loop's source --------------------------------------------------------------- */

/* A live source: a message is taken as soon as it is there (the engine's
 * clock is its received_at) and nothing waits for one that may come. */
static enum hh_src_state kafka_peek(void *impl, struct hh_ev_key *key)
{
    struct run *R = impl;
    struct run_kafka *K = R->kafka;

    if (!K)
        return HH_SRC_END;
    service(R);
    if (R->md_done)
        return HH_SRC_END;   /* the run is ending: no new signal */
    if (!R->startup_done || now_of(R) == HH_TIME_NONE || R->failed ||
        hh_tm_trading(R->tm) != HH_TRADING_ACTIVE) {
        *key = KEY_LAST;     /* not before the startup reconciliation and a clock, and
                                no new signal while the kill switch is on (the
                                messages wait: a full ring pauses the consumer) */
        return HH_SRC_PENDING;
    }
    if (!K->held && hh_kafka_pop(K->k, &K->msg) == 1)
        K->held = true;
    if (K->held) {
        *key = KEY_FIRST;
        return HH_SRC_READY;
    }
    *key = KEY_LAST;
    return HH_SRC_PENDING;
}

/* The message held and those queued behind it (up to BATCH), one step. */
static int kafka_take(void *impl, const struct hh_ev_key *bound)
{
    struct run *R = impl;
    struct run_kafka *K = R->kafka;
    int n = 0;

    (void)bound;
    do {
        K->held = false;
        decide(R, &K->msg);
        hh_kafka_msg_free(&K->msg);
    } while (!R->failed && ++n < BATCH && hh_kafka_pop(K->k, &K->msg) == 1);
    hh_tm_set_cursor(R->tm, &R->cur, true);   /* messages received, over the runs */
    run_commit(R);
    return R->failed ? HH_EDB : HH_OK;
}

const struct hh_source_ops run_kafka_ops = { kafka_peek, kafka_take };

/* ---- events ------------------------------------------------------------------------------ */

struct hh_json *run_kafka_event(struct run *R, const char *type, const char *symbol,
                                const char *corr, hh_time_t at)
{
    struct run_kafka *K = R->kafka;

    if (!K || !K->events_topic[0] || R->failed)
        return NULL;
    snprintf(K->ev_type, sizeof K->ev_type, "%s", type);
    snprintf(K->ev_key, sizeof K->ev_key, "%s", symbol ? symbol : "");
    snprintf(K->ev_corr, sizeof K->ev_corr, "%s", corr ? corr : "");
    /* the id names the outbox row the event becomes (next_seq) */
    snprintf(K->ev_id, sizeof K->ev_id, "%s-%llu", K->instance,
             (unsigned long long)K->next_seq);
    K->ev_open = true;
    hh_json_reset(&K->ev);
    hh_json_begin_object(&K->ev, NULL, false);
    hh_json_str(&K->ev, "type", type);
    hh_json_str(&K->ev, "event_id", K->ev_id);
    hh_json_str(&K->ev, "correlation_id", corr);
    hh_json_time(&K->ev, "ts", at);
    hh_json_str(&K->ev, "symbol", symbol);
    return &K->ev;
}

void run_kafka_event_end(struct run *R)
{
    struct run_kafka *K = R->kafka;
    struct hh_store_outbox o = { .kind = HH_OUTBOX_EVENT };

    if (!K || !K->ev_open)
        return;
    K->ev_open = false;
    hh_json_end_object(&K->ev);
    if (hh_json_status(&K->ev)) {
        HH_JLOG(&R->log, HH_LOG_ERROR, now_of(R), "event_lost", K->ev_corr,
                "type=%s: out of memory writing the event", K->ev_type);
        return;
    }
    o.topic = K->events_topic;
    o.key = K->ev_key[0] ? K->ev_key : NULL;
    o.correlation_id = K->ev_corr[0] ? K->ev_corr : NULL;
    o.payload = hh_json_text(&K->ev);
    if (outbox_write(R, &o, K->ev_id))
        run_fatal_db(R);
}

/* ---- start and end ------------------------------------------------------------------------ */

/* Where each partition resumes: the database's last decided offset + 1
 * (the consumer thread calls it at each assignment; a reader of its own). */
struct resume_ctx {
    const int32_t *parts;
    int64_t *next;
    int n;
};

static void on_offset(void *ctx, int32_t partition, int64_t offset)
{
    struct resume_ctx *c = ctx;

    for (int i = 0; i < c->n; i++)
        if (c->parts[i] == partition)
            c->next[i] = offset + 1;
}

static int resume(void *ctx, const int32_t *parts, int64_t *next, int n, char *why, size_t cap)
{
    struct run *R = ctx;
    struct hh_store_reader *rd;
    struct resume_ctx c = { parts, next, n };
    struct hh_diag d;
    int rc = hh_store_reader_open(R->db_path, &rd, &d);

    if (!rc) {
        rc = hh_store_read_kafka_offsets(rd, R->kafka->topic, on_offset, &c, &d);
        hh_store_reader_close(rd);
    }
    if (rc)
        snprintf(why, cap, "%s", d.msg);
    return rc;
}

/* The rows a previous run left unsent: produced again, first. */
static int on_unsent(void *ctx, const struct hh_store_outbox *o)
{
    struct run_kafka *K = ctx;
    const char *id = NULL;
    char eid[48] = "";

    if (o->kind == HH_OUTBOX_EVENT) {
        /* the event id is in the payload: the header repeats it */
        const char *p = strstr(o->payload, "\"event_id\":\"");

        if (p && sscanf(p + 12, "%47[^\"]", eid) == 1)
            id = eid;
    }
    return obx_add(K, o, 0, 1, id);   /* durable already */
}

static int load_outbox(struct run *R)
{
    struct run_kafka *K = R->kafka;
    struct hh_store_reader *rd;
    uint64_t max = 0;
    int rc = hh_store_reader_open(R->db_path, &rd, &R->d);

    if (rc)
        return rc;
    rc = hh_store_read_outbox(rd, on_unsent, K, &max, &R->d);
    hh_store_reader_close(rd);
    K->next_seq = max + 1;
    if (!rc && K->nob)
        HH_JLOG(&R->log, HH_LOG_INFO, now_of(R), "outbox_resume", NULL,
                "%zu dead letter(s) and event(s) recorded but not acknowledged: produced "
                "again", K->nob);
    return rc;
}

/* A per-process prefix for event ids (ids stay unique across engines and
 * restarts; a row keeps its id when produced again). */
static void instance_id(char out[17])
{
    unsigned char b[8] = { 0 };
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    uint64_t x = (uint64_t)getpid() * 0x9e3779b97f4a7c15ULL;

    if (fd >= 0) {
        if (read(fd, b, sizeof b) != (ssize_t)sizeof b)
            memset(b, 0, sizeof b);
        close(fd);
    }
    for (int i = 0; i < 8; i++)
        x ^= (uint64_t)b[i] << (8 * i);
    snprintf(out, 17, "%016llx", (unsigned long long)x);
}

static int start_feed(struct run *R)
{
    const struct hh_config *c = &R->w.cfg;
    const char *props[2 * HH_CONFIG_KV_MAX];
    struct hh_kafka_opts o = { .brokers = c->signals.kafka.brokers,
                               .topic = c->signals.kafka.topic,
                               .group = c->signals.kafka.group, .props = props,
                               .nprops = c->signals.kafka.client.n, .resume = resume,
                               .resume_ctx = R };

    for (int i = 0; i < c->signals.kafka.client.n; i++) {
        props[2 * i] = c->signals.kafka.client.kv[i].key;
        props[2 * i + 1] = c->signals.kafka.client.kv[i].value;
    }
    return hh_kafka_start(R->hub, &o, &R->kafka->k, &R->d);
}

int run_kafka_start(struct run *R)
{
    const struct hh_config *c = &R->w.cfg;
    struct run_kafka *K;
    int rc;

    if (c->signals.source != HH_CONFIG_SIGNALS_KAFKA)
        return HH_OK;
    if (!(K = R->kafka = calloc(1, sizeof *K)))
        return hh_diag_set(&R->d, HH_ENOMEM, "out of memory");
    K->topic = c->signals.kafka.topic;
    K->dlq_topic = c->signals.kafka.dlq_topic;
    K->events_topic = c->signals.kafka.events_topic;
    hh_json_init(&K->ev, 0, NULL, 0);
    instance_id(K->instance);
    if ((rc = load_outbox(R)) || (rc = start_feed(R)))
        return rc;
    HH_JLOG(&R->log, HH_LOG_INFO, now_of(R), "kafka_start", NULL,
            "brokers=%s topic=%s group=%s dlq_topic=%s events_topic=%s client properties %d "
            "(values not logged)", c->signals.kafka.brokers, K->topic, c->signals.kafka.group,
            K->dlq_topic, K->events_topic[0] ? K->events_topic : "none",
            c->signals.kafka.client.n);
    return HH_OK;
}

void run_kafka_finish(struct run *R)
{
    struct run_kafka *K = R->kafka;
    struct hh_kafka_status st;

    if (!K)
        return;
    release(R);            /* durable, reported consumed */
    take_acks(R);
    produce_due(R, true);  /* a last chance for what is due */
    hh_kafka_stop(K->k, 5000);
    take_acks(R);          /* marked sent with the journal's end */
    report_consumed(R, true);
    hh_kafka_status(K->k, &st);
    log_status(R, &st);
}

void run_kafka_health(struct run *R, struct run_kafka_health *out)
{
    struct run_kafka *K = R->kafka;
    struct hh_kafka_status st;

    memset(out, 0, sizeof *out);
    out->up = true;
    if (!K)
        return;
    hh_kafka_status(K->k, &st);
    if (st.failed) {
        out->up = false;
        snprintf(out->why, sizeof out->why, "kafka consumer failed: %.200s", st.why);
    } else if (K->dlq_down) {
        out->up = false;
        snprintf(out->why, sizeof out->why, "%.200s (consumption paused)", K->dlq_why);
    } else if (!st.nparts && st.unassigned_s >= UNASSIGNED_DOWN) {
        out->up = false;
        snprintf(out->why, sizeof out->why, "no partition of %.120s assigned for %llu s",
                 K->topic, (unsigned long long)st.unassigned_s);
    }
}

void run_kafka_free(struct run *R)
{
    struct run_kafka *K = R->kafka;

    if (!K)
        return;
    hh_kafka_free(K->k);
    hh_kafka_msg_free(&K->msg);
    for (size_t i = K->obhead; i < K->nob; i++)
        obx_free(&K->ob[i]);
    free(K->ob);
    free(K->dec);
    hh_json_free(&K->ev);
    free(K);
    R->kafka = NULL;
}
