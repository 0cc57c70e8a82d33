/*
 * cmdq.c — what passes between the HTTP side and the core: published
 * documents, commands and their answers, refusals to audit; and the aux
 * thread that makes nonces durable (group commit) and times out commands.
 *
 * A command lives in a slot from the moment its nonce is durable until the
 * core answers it.  Its id is (sequence << 16) | slot index, so an answer
 * finds its slot at once and a stale id never matches a reused slot.  The
 * queue order is a ring of ids; refusals have their own ring and share the
 * sequence, so the core sees everything in arrival order.
 *
 * Slot states: free (id 0); queued (taken false) with its request, or
 * withdrawn (req NULL: timed out before the core took it — freed, never
 * delivered, when it reaches the head); taken (the core has it) with its
 * request, or detached (timed out: the core's answer is then dropped).
 * Queued slots are exactly the ring's entries, so the ring never
 * overflows.
 */
#include "api/api_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define IDX_BITS   16
#define AUX_WAIT_MS 250      /* the aux thread looks at deadlines at least this often */

int64_t hh_api__now_ms(const struct hh_api *a)
{
    struct timespec ts;

    if (a->cfg.clock)
        return a->cfg.clock(a->cfg.clock_ctx);
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int hh_api__cmdq_init(struct hh_api *a)
{
    pthread_condattr_t ca;
    unsigned cap = a->cfg.queue_cap;

    pthread_mutex_init(&a->lock, NULL);
    pthread_mutex_init(&a->docs_lock, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&a->cond, &ca);
    pthread_condattr_destroy(&ca);
    a->slots = calloc(cap, sizeof *a->slots);
    a->fifo = calloc(cap, sizeof *a->fifo);
    a->free_slots = calloc(cap, sizeof *a->free_slots);
    if (!a->slots || !a->fifo || !a->free_slots)
        return HH_ENOMEM;
    for (unsigned i = 0; i < cap; i++)
        a->free_slots[a->nfree++] = cap - 1 - i;
    return HH_OK;
}

void hh_api__cmdq_free(struct hh_api *a)
{
    free(a->slots);
    free(a->fifo);
    free(a->free_slots);
    for (int i = 0; i < HH_API_DOC_COUNT; i++)
        free(a->docs[i].data);
    free(a->health.data);
    free(a->report.data);
    pthread_cond_destroy(&a->cond);
    pthread_mutex_destroy(&a->lock);
    pthread_mutex_destroy(&a->docs_lock);
}

/* ---- documents -------------------------------------------------------- */

/* Copy json into doc (docs_lock held). */
static int doc_set(struct hh_api__doc *doc, const char *json, size_t len)
{
    if (len + 1 > doc->cap) {
        char *p = realloc(doc->data, len + 1);

        if (!p)
            return HH_ENOMEM;
        doc->data = p, doc->cap = len + 1;
    }
    memcpy(doc->data, json, len);
    doc->data[len] = '\0';
    doc->len = len;
    return HH_OK;
}

/* A malloc'd copy of doc (docs_lock held); *out NULL when unpublished. */
static int doc_get(const struct hh_api__doc *doc, char **out, size_t *len)
{
    *out = NULL, *len = 0;
    if (!doc->data)
        return HH_OK;
    if (!(*out = malloc(doc->len + 1)))
        return HH_ENOMEM;
    memcpy(*out, doc->data, doc->len + 1);
    *len = doc->len;
    return HH_OK;
}

int hh_api_publish(struct hh_api *a, enum hh_api_doc which, const char *json, size_t len)
{
    int rc;

    if (!a)
        return HH_OK;
    if ((unsigned)which >= HH_API_DOC_COUNT)
        return HH_EINVAL;
    pthread_mutex_lock(&a->docs_lock);
    rc = doc_set(&a->docs[which], json, len);
    pthread_mutex_unlock(&a->docs_lock);
    return rc;
}

int hh_api_publish_health(struct hh_api *a, bool ready, const char *json, size_t len)
{
    int rc;

    if (!a)
        return HH_OK;
    pthread_mutex_lock(&a->docs_lock);
    rc = doc_set(&a->health, json, len);
    if (rc == HH_OK)
        a->health_ready = ready;
    pthread_mutex_unlock(&a->docs_lock);
    return rc;
}

bool hh_api__date_ok(const char *s)
{
    static const char shape[] = "dddd-dd-dd";

    for (int i = 0; i < 10; i++)
        if (shape[i] == 'd' ? (s[i] < '0' || s[i] > '9') : s[i] != '-')
            return false;
    return s[10] == '\0';
}

int hh_api_publish_report(struct hh_api *a, const char *date, const char *json, size_t len)
{
    int rc;

    if (!a)
        return HH_OK;
    if (!hh_api__date_ok(date))
        return HH_EINVAL;
    pthread_mutex_lock(&a->docs_lock);
    rc = doc_set(&a->report, json, len);
    if (rc == HH_OK)
        memcpy(a->report_date, date, sizeof a->report_date);
    pthread_mutex_unlock(&a->docs_lock);
    return rc;
}

int hh_api__doc_copy(struct hh_api *a, enum hh_api_doc which, char **out, size_t *len)
{
    int rc;

    pthread_mutex_lock(&a->docs_lock);
    rc = doc_get(&a->docs[which], out, len);
    pthread_mutex_unlock(&a->docs_lock);
    return rc;
}

int hh_api__health_copy(struct hh_api *a, char **out, size_t *len, bool *ready)
{
    int rc;

    pthread_mutex_lock(&a->docs_lock);
    rc = doc_get(&a->health, out, len);
    *ready = a->health_ready;
    pthread_mutex_unlock(&a->docs_lock);
    return rc;
}

int hh_api__report_copy(struct hh_api *a, const char *date, char **out, size_t *len)
{
    int rc = HH_OK;

    *out = NULL, *len = 0;
    pthread_mutex_lock(&a->docs_lock);
    if (!date || !strcmp(date, a->report_date))
        rc = doc_get(&a->report, out, len);
    pthread_mutex_unlock(&a->docs_lock);
    return rc;
}

/* ---- answers ---------------------------------------------------------- */

void hh_api__req_answer(struct hh_api__req *r, int status, char *body, size_t len)
{
    free(r->resp);
    r->status = status;
    r->resp = body;
    r->resp_len = body ? len : 0;
    r->state = HH_API__RQ_ANSWER;
}

static void answer_error(struct hh_api__req *r, int status, const char *code,
                         const char *detail)
{
    size_t len = 0;
    char *body = hh_api__error_json(code, detail, &len);

    hh_api__req_answer(r, status, body, len);
}

/* Answer r because the API stops; the stop waits until it is sent. */
static void answer_stopping(struct hh_api *a, struct hh_api__req *r, const char *detail)
{
    answer_error(r, 503, "SHUTTING_DOWN", detail);
    r->draining = true;
    atomic_fetch_add(&a->draining, 1);
}

/* Resume every request of a list linked by `next` (no lock held). */
static void resume_all(struct hh_api__req *list)
{
    while (list) {
        struct hh_api__req *r = list;

        list = r->next;
        r->next = NULL;
        MHD_resume_connection(r->conn);
    }
}

static void push_front(struct hh_api__req **list, struct hh_api__req *r)
{
    r->next = *list;
    *list = r;
}

/* ---- commands --------------------------------------------------------- */

static void slot_release(struct hh_api *a, unsigned idx)
{
    memset(&a->slots[idx], 0, sizeof a->slots[idx]);
    a->free_slots[a->nfree++] = idx;
}

/* Queue r's command (lock held); false when every slot is in use. */
static bool enqueue(struct hh_api *a, struct hh_api__req *r, int64_t now_ms)
{
    struct hh_api__slot *s;
    unsigned idx;

    if (!a->nfree)
        return false;
    idx = a->free_slots[--a->nfree];
    s = &a->slots[idx];
    s->id = (++a->seq << IDX_BITS) | idx;
    s->taken = false;
    s->req = r;
    s->deadline_ms = now_ms + a->cfg.answer_timeout_ms;
    a->fifo[(a->fifo_head + a->fifo_n++) % a->cfg.queue_cap] = s->id;
    atomic_store_explicit(&a->queued, true, memory_order_release);
    r->state = HH_API__RQ_CORE;
    return true;
}

/* The path of r, bytes outside printable ASCII as '?' (it reaches logs). */
static void copy_path(char *dst, size_t cap, const struct hh_api__req *r)
{
    size_t n = r->path_len < cap - 1 ? r->path_len : cap - 1;

    for (size_t i = 0; i < n; i++)
        dst[i] = r->target[i] > 0x20 && r->target[i] < 0x7f ? r->target[i] : '?';
    dst[n] = '\0';
}

static void fill_command(struct hh_api_command *out, const struct hh_api__req *r,
                         uint64_t id)
{
    out->id = id;
    out->kind = r->kind;
    out->received_ms = r->received_ms;
    snprintf(out->client, sizeof out->client, "%s", r->client);
    snprintf(out->key_id, sizeof out->key_id, "%s", r->key_id);
    snprintf(out->method, sizeof out->method, "%s", r->method);
    copy_path(out->path, sizeof out->path, r);
    out->refusal = HH_API_REF_COUNT;
    out->action = r->action;
    out->trade_id = r->path_id;
    snprintf(out->reason, sizeof out->reason, "%s", r->reason);
    out->body_len = r->body_len;
    if (r->body_len)
        memcpy(out->body, r->body, r->body_len);
    out->body[r->body_len] = '\0';
}

static void fill_refusal(struct hh_api_command *out, const struct hh_api__refusal *e)
{
    out->id = e->seq << IDX_BITS;
    out->kind = HH_API_CMD_REFUSED;
    out->received_ms = e->at_ms;
    snprintf(out->client, sizeof out->client, "%s", e->client);
    out->key_id[0] = '\0';
    snprintf(out->method, sizeof out->method, "%s", e->method);
    snprintf(out->path, sizeof out->path, "%s", e->path);
    out->refusal = e->code;
    out->action = HH_API_KILL_PAUSE;
    out->trade_id = 0;
    out->reason[0] = '\0';
    out->body_len = 0;
    out->body[0] = '\0';
}

/* Pop the oldest deliverable entry into out (lock held). */
static bool pop(struct hh_api *a, struct hh_api_command *out)
{
    while (a->fifo_n || a->ref_n) {
        uint64_t id = a->fifo_n ? a->fifo[a->fifo_head] : UINT64_MAX;
        struct hh_api__slot *s;

        if (a->ref_n && a->refusals[a->ref_head].seq < id >> IDX_BITS) {
            fill_refusal(out, &a->refusals[a->ref_head]);
            a->ref_head = (a->ref_head + 1) % HH_API__REFUSALS_CAP, a->ref_n--;
            return true;
        }
        a->fifo_head = (a->fifo_head + 1) % a->cfg.queue_cap, a->fifo_n--;
        s = &a->slots[id & ((1u << IDX_BITS) - 1)];
        if (!s->req) {                           /* withdrawn by a timeout */
            slot_release(a, (unsigned)(s - a->slots));
            continue;
        }
        s->taken = true;
        fill_command(out, s->req, s->id);
        return true;
    }
    return false;
}

bool hh_api_next_command(struct hh_api *a, struct hh_api_command *out)
{
    bool got;

    if (!a)
        return false;
    /* (the core is the only writer: no locked add) */
    atomic_store_explicit(&a->core_polls,
                          atomic_load_explicit(&a->core_polls, memory_order_relaxed) + 1,
                          memory_order_relaxed);
    if (!atomic_load_explicit(&a->queued, memory_order_acquire))
        return false;
    pthread_mutex_lock(&a->lock);
    got = pop(a, out);
    atomic_store_explicit(&a->queued, a->fifo_n || a->ref_n, memory_order_relaxed);
    pthread_mutex_unlock(&a->lock);
    return got;
}

int hh_api_answer(struct hh_api *a, uint64_t id, int http_status, const char *json)
{
    unsigned idx = (unsigned)(id & ((1u << IDX_BITS) - 1));
    struct hh_api__req *r = NULL;
    char *copy;

    if (!a)
        return HH_ENOTFOUND;
    HH_ASSERT(http_status >= 200 && http_status <= 599);
    copy = strdup(json ? json : "{}");
    pthread_mutex_lock(&a->lock);
    if (idx < a->cfg.queue_cap && a->slots[idx].id == id && a->slots[idx].taken) {
        r = a->slots[idx].req;
        slot_release(a, idx);
        if (r) {
            hh_api__req_answer(r, http_status, copy, copy ? strlen(copy) : 0);
            copy = NULL;
        }
    }
    pthread_mutex_unlock(&a->lock);
    free(copy);
    if (!r)
        return HH_ENOTFOUND;
    MHD_resume_connection(r->conn);
    return HH_OK;
}

void hh_api__refusal_push(struct hh_api *a, const struct hh_api__req *r,
                          enum hh_api_refusal code)
{
    bool queued = false;

    pthread_mutex_lock(&a->lock);
    if (a->ref_n < HH_API__REFUSALS_CAP && !a->stopping) {
        struct hh_api__refusal *e =
            &a->refusals[(a->ref_head + a->ref_n++) % HH_API__REFUSALS_CAP];

        atomic_store_explicit(&a->queued, true, memory_order_release);
        e->seq = ++a->seq;
        e->code = code;
        e->at_ms = r->received_ms;
        snprintf(e->method, sizeof e->method, "%s", r->method);
        copy_path(e->path, sizeof e->path, r);
        snprintf(e->client, sizeof e->client, "%s", r->client);
        queued = true;
    }
    pthread_mutex_unlock(&a->lock);
    if (!queued)
        hh_api_count(a, HH_API_M_API_EVENTS_DROPPED, 0, 1);
    else if (a->cfg.wakeup)
        a->cfg.wakeup(a->cfg.wakeup_ctx);
}

/* ---- the journal and the aux thread ----------------------------------- */

bool hh_api__journal_push(struct hh_api *a, struct hh_api__req *r)
{
    bool held = false;

    pthread_mutex_lock(&a->lock);
    if (a->stopping) {
        answer_stopping(a, r, "the engine is stopping; nothing was applied");
    } else {
        r->state = HH_API__RQ_JOURNAL;
        r->next = NULL;
        if (a->journal_tail)
            a->journal_tail->next = r;
        else
            a->journal = r;
        a->journal_tail = r;
        pthread_cond_signal(&a->cond);
        held = true;
    }
    pthread_mutex_unlock(&a->lock);
    return held;
}

/* Append and sync the batch's nonces (no lock held); logged on failure. */
static int write_claims(struct hh_api *a, struct hh_api__req *batch, int64_t now)
{
    struct hh_api__nonce *v;
    struct hh_diag d = { "out of memory" };
    size_t n = 0;
    int rc = HH_ENOMEM;

    for (struct hh_api__req *r = batch; r; r = r->next)
        n++;
    if ((v = malloc(n * sizeof *v))) {
        n = 0;
        for (struct hh_api__req *r = batch; r; r = r->next)
            v[n++] = r->claim;
        rc = hh_api__nonces_write(&a->nonces, v, n, now, &d);
        free(v);
    }
    if (rc != HH_OK) {
        hh_api_count(a, HH_API_M_API_NONCE_ERRORS, 0, 1);
        if (a->cfg.log)
            a->cfg.log(a->cfg.log_ctx, HH_API_LOG_ERROR, "api_nonce_store_failed", d.msg);
    }
    return rc;
}

/* Make the batch's nonces durable; then each request goes on: a read is
 * resumed to be served, a command queued (lock not held on entry).
 * Returns whether a command was queued. */
static bool journal_batch(struct hh_api *a, struct hh_api__req *batch)
{
    struct hh_api__req *resume = NULL, *next;
    int64_t now = hh_api__now_ms(a);
    int rc = write_claims(a, batch, now);
    bool queued = false;

    pthread_mutex_lock(&a->lock);
    for (struct hh_api__req *r = batch; r; r = next) {
        next = r->next;
        if (rc != HH_OK)
            answer_error(r, 503, "NONCE_STORE_FAILED", "the request was not applied");
        else if (a->stopping)
            answer_stopping(a, r, "the engine is stopping; nothing was applied");
        else if (r->route->auth != HH_API__AUTH_SIGNED)
            r->state = HH_API__RQ_SERVE;
        else if (enqueue(a, r, now)) {
            queued = true;
            continue;
        } else
            answer_error(r, 503, "BUSY", "too many commands waiting for the engine; "
                         "nothing was applied");
        push_front(&resume, r);
    }
    pthread_mutex_unlock(&a->lock);
    resume_all(resume);
    return queued;
}

/* Answer the commands past their deadline (lock held); the requests to
 * resume go to *resume.  Returns the earliest deadline left. */
static int64_t expire(struct hh_api *a, int64_t now, struct hh_api__req **resume)
{
    int64_t next = INT64_MAX;

    for (unsigned i = 0; i < a->cfg.queue_cap; i++) {
        struct hh_api__slot *s = &a->slots[i];

        if (!s->id || !s->req)
            continue;
        if (s->deadline_ms > now) {
            next = s->deadline_ms < next ? s->deadline_ms : next;
            continue;
        }
        if (s->taken)
            answer_error(s->req, 503, "TIMEOUT", "the engine took the command but did not "
                         "answer in time; its outcome is unknown: see /api/v1/status");
        else
            answer_error(s->req, 503, "TIMEOUT", "the engine did not take the command in "
                         "time; it was withdrawn and not applied");
        hh_api_count(a, HH_API_M_API_TIMEOUTS, 0, 1);
        push_front(resume, s->req);
        s->req = NULL;
    }
    return next;
}

static void wait_until(struct hh_api *a, int64_t next, int64_t now)
{
    int64_t ms = next - now < AUX_WAIT_MS ? next - now : AUX_WAIT_MS;
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    ms = ms < 1 ? 1 : ms;
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (ms % 1000) * 1000000;
    if (ts.tv_nsec >= 1000000000)
        ts.tv_sec++, ts.tv_nsec -= 1000000000;
    pthread_cond_timedwait(&a->cond, &a->lock, &ts);
}

/* The core polled since the last look: its heartbeat is now. */
static void stamp_core_poll(struct hh_api *a, int64_t now)
{
    uint64_t n = atomic_load_explicit(&a->core_polls, memory_order_relaxed);

    if (n != a->polls_seen) {
        a->polls_seen = n;
        atomic_store_explicit(&a->last_poll_ms, now, memory_order_relaxed);
    }
}

static void *aux_main(void *arg)
{
    struct hh_api *a = arg;

    pthread_mutex_lock(&a->lock);
    while (!a->stopping) {
        struct hh_api__req *resume = NULL;
        int64_t now, next;

        if (a->journal) {
            struct hh_api__req *batch = a->journal;
            bool queued;

            a->journal = a->journal_tail = NULL;
            pthread_mutex_unlock(&a->lock);
            queued = journal_batch(a, batch);
            if (queued && a->cfg.wakeup)
                a->cfg.wakeup(a->cfg.wakeup_ctx);
            pthread_mutex_lock(&a->lock);
            continue;
        }
        now = hh_api__now_ms(a);
        stamp_core_poll(a, now);
        next = expire(a, now, &resume);
        if (resume) {
            pthread_mutex_unlock(&a->lock);
            resume_all(resume);
            pthread_mutex_lock(&a->lock);
            continue;
        }
        wait_until(a, next, now);
    }
    pthread_mutex_unlock(&a->lock);
    return NULL;
}

int hh_api__aux_start(struct hh_api *a)
{
    if (pthread_create(&a->aux, NULL, aux_main, a) != 0)
        return HH_ENOMEM;
    a->aux_running = true;
    return HH_OK;
}

/* Every held request answered 503 SHUTTING_DOWN (lock held). */
static struct hh_api__req *release_all(struct hh_api *a)
{
    struct hh_api__req *resume = NULL, *r, *next;

    for (r = a->journal; r; r = next) {
        next = r->next;
        answer_stopping(a, r, "the engine is stopping; nothing was applied");
        push_front(&resume, r);
    }
    a->journal = a->journal_tail = NULL;
    for (unsigned i = 0; a->slots && i < a->cfg.queue_cap; i++) {
        struct hh_api__slot *s = &a->slots[i];

        if (!s->id || !s->req)
            continue;
        answer_stopping(a, s->req,
                        s->taken ? "the engine is stopping; the command's outcome is unknown"
                                 : "the engine is stopping; the command was not applied");
        push_front(&resume, s->req);
        s->req = NULL;
    }
    return resume;
}

void hh_api__aux_stop(struct hh_api *a)
{
    struct hh_api__req *resume;

    pthread_mutex_lock(&a->lock);
    a->stopping = true;
    pthread_cond_broadcast(&a->cond);
    pthread_mutex_unlock(&a->lock);
    if (a->aux_running)
        pthread_join(a->aux, NULL);
    a->aux_running = false;
    pthread_mutex_lock(&a->lock);
    resume = release_all(a);
    pthread_mutex_unlock(&a->lock);
    resume_all(resume);
}
