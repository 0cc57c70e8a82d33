/*
 * kafka.h — signals from Kafka (SPEC §14): a consumer-group member on a
 * thread of its own hands each message to the core through a bounded ring,
 * and a producer on another thread writes what the core gives it (dead
 * letters, events) and hands each delivery report back.  The feed moves
 * bytes; the core (app/run_kafka.c) decides, records and acknowledges.
 *
 * Consuming.  Messages of the subscribed topic go into the ring in fetch
 * order (per partition: offset order).  A full ring blocks the consumer
 * thread (back-pressure, never a drop).  Offsets are the core's business:
 *   - assignment: every partition assigned starts at the offset the core's
 *     database says comes next (opts.resume: the last offset decided + 1),
 *     or at the group's committed offset when that is further (another
 *     member decided up to it and committed only once that was durable),
 *     or at its beginning when neither knows it: nothing published is
 *     skipped;
 *   - revocation: the ring's items are dropped (undecided: whoever gets
 *     the partition reads them again from the durable offset) and the
 *     consumer waits until the core released what it holds
 *     (hh_kafka_revoking / hh_kafka_released: it drops an undecided item
 *     it popped, makes its decisions durable and reports them consumed);
 *     then it commits the consumed offsets, synchronously, and lets the
 *     partitions go;
 *   - commits are advisory: the offsets the core reported consumed
 *     (hh_kafka_consumed), committed every 100 ms and at every
 *     revocation, never between a revocation and the next assignment (a
 *     commit then would make librdkafka drop the generation it is being
 *     given).  The core's database is the record; a commit only tells
 *     the other members of the group where this one got to.
 * A member holding no partition says for how long (status: unassigned_s).
 * hh_kafka_pause() stops fetching on every partition assigned (now and
 * after later assignments) until resumed.
 *
 * Producing.  hh_kafka_produce() queues one message with the idempotent
 * producer (enable.idempotence=true: retries never duplicate or reorder
 * within a partition); its delivery report comes back through
 * hh_kafka_acks() with the caller's sequence number.  A producer that
 * meets a fatal error is replaced (the messages it held are reported
 * failed, to be produced again).
 *
 * Properties: ours first (bootstrap.servers, group.id, no auto commit, no
 * auto offset store, auto.offset.reset=earliest, session.timeout.ms=6000,
 * heartbeat.interval.ms=500, fetch.wait.max.ms=10; producer:
 * enable.idempotence=true, linger.ms=5, message.timeout.ms=10000), then the
 * caller's, which win.  Error messages name a property, never its value
 * (sasl.password...).
 *
 * Threads: start/stop/free and every call below on the core's thread; the
 * consumer and producer threads only through the hub's mutex.
 */
#ifndef HH_FEED_KAFKA_H
#define HH_FEED_KAFKA_H

#include "feed/feed.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HH_KAFKA_MAX_VALUE (1 << 20)   /* larger values arrive without their bytes */
#define HH_KAFKA_MAX_PARTS 64          /* partitions the status reports */

/* One message, as the core receives it.  key, corr and value point into
 * one allocation owned by the message (hh_kafka_msg_free). */
struct hh_kafka_msg {
    int32_t partition;
    int64_t offset;
    const char *key;               /* NULL when the message has none */
    size_t key_len;
    const char *corr;              /* the last correlation_id header, NUL-terminated
                                      (NULL: none; may hold any byte: check it) */
    size_t corr_len;
    const char *value;             /* NUL-terminated copy; NULL when the message has
                                      none or it is longer than max_value */
    size_t len;                    /* bytes of value ... */
    size_t full_len;               /* ... and of the message's value */
    void *mem;                     /* the allocation */
};

void hh_kafka_msg_free(struct hh_kafka_msg *m);   /* accepts NULL; clears *m */

struct hh_kafka_opts {
    const char *brokers;           /* bootstrap.servers */
    const char *topic;             /* consumed (NULL: a producer only) */
    const char *group;             /* group.id */
    const char *const *props;      /* nprops key/value pairs: props[2i], props[2i+1] */
    int nprops;
    /* Called on the consumer thread at each assignment: next[i] = the next
     * offset to decide of partition parts[i] by the core's database (the
     * last decided + 1), or -1 when it decided none.  Non-zero: the feed
     * fails (hh_kafka_status: failed) and consumes nothing more. */
    int (*resume)(void *ctx, const int32_t *parts, int64_t *next, int n, char *why,
                  size_t cap);
    void *resume_ctx;
    size_t max_value;              /* 0: HH_KAFKA_MAX_VALUE */
};

struct hh_kafka;

/* Create the clients and start the threads.  HH_EINVAL (a property
 * refused: message names it), HH_ENOMEM, HH_EIO (a client could not be
 * created); d says which. */
int hh_kafka_start(struct hh_feed_hub *h, const struct hh_kafka_opts *o, struct hh_kafka **out,
                   struct hh_diag *d);

/* ---- consuming (the core) ------------------------------------------------------ */

/* The next message (1; the core owns *out), or 0 when none is queued. */
int hh_kafka_pop(struct hh_kafka *k, struct hh_kafka_msg *out);

/* A revocation waits for the core: drop any message popped and not
 * decided, make the decisions durable, report them (hh_kafka_consumed),
 * then hh_kafka_released(). */
bool hh_kafka_revoking(struct hh_kafka *k);
void hh_kafka_released(struct hh_kafka *k);

/* Message (partition, offset) is decided, durable and, when it was
 * rejected, its dead letter acknowledged: a commit may cover it. */
void hh_kafka_consumed(struct hh_kafka *k, int32_t partition, int64_t offset);

/* Stop (true) or resume (false) fetching every partition assigned. */
void hh_kafka_pause(struct hh_kafka *k, bool paused);

/* ---- producing (the core) ------------------------------------------------------ */

struct hh_kafka_out {
    uint64_t seq;                  /* the caller's: comes back in its ack */
    const char *topic;
    const char *key;               /* may be NULL */
    const char *value;
    size_t len;
    const char *reason;            /* header `reason`; may be NULL */
    const char *corr;              /* header `correlation_id`; may be NULL */
    const char *event_id;          /* header `event_id`; may be NULL */
};

/* Queue one message.  HH_OK; HH_EFULL (the producer's queue is full: try
 * again after acks came back); HH_EIO (refused: d says why). */
int hh_kafka_produce(struct hh_kafka *k, const struct hh_kafka_out *m, struct hh_diag *d);

struct hh_kafka_ack {
    uint64_t seq;
    int rc;                        /* HH_OK: the broker has it; else HH_EIO */
    char why[96];                  /* librdkafka's error name when rc != 0 */
};

/* Move up to max delivery reports into out; returns how many. */
size_t hh_kafka_acks(struct hh_kafka *k, struct hh_kafka_ack *out, size_t max);

/* ---- status ----------------------------------------------------------------------- */

struct hh_kafka_part {
    int32_t partition;
    int64_t consumed;              /* next offset not yet reported consumed */
    int64_t high;                  /* high watermark (-1: unknown yet) */
    int64_t lag;                   /* high - consumed, 0 when unknown */
};

struct hh_kafka_status {
    bool failed;                   /* the consumer gave up (why says it) */
    char why[256];
    uint64_t seconds;              /* seconds the feed has run (its own tick) */
    uint64_t assignments;          /* assignments so far (changes: log them) */
    uint64_t revocations;
    uint64_t fetched;              /* messages handed to the core */
    double rate;                   /* messages/s handed over, last 5 s */
    bool paused;
    int nparts;                    /* partitions assigned */
    uint64_t unassigned_s;         /* seconds with none assigned (0: some are) */
    struct hh_kafka_part parts[HH_KAFKA_MAX_PARTS];
    uint64_t produced, produce_failed;   /* delivery reports */
    uint64_t consumer_errors;      /* errors the consumer reported (retried) */
    uint64_t commits;              /* periodic (advisory) offset commits */
    int64_t commit_max_ns;         /* the longest one waited, ns */
    char last_error[160];
};

void hh_kafka_status(struct hh_kafka *k, struct hh_kafka_status *out);

/* ---- the end ------------------------------------------------------------------------ */

/*
 * Leave the group: the core must have made its decisions durable and
 * reported them consumed first (no revocation waits for it from here on);
 * the consumed offsets are committed, the consumer closed, the producer
 * given up to timeout_ms to deliver what it holds (acks stay readable).
 */
void hh_kafka_stop(struct hh_kafka *k, int timeout_ms);

/* Stop (when not stopped) and free.  Accepts NULL. */
void hh_kafka_free(struct hh_kafka *k);

#endif
