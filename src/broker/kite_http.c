/*
 * kite_http.c — REST over libcurl: secrets, authorisation, pacing, answers.
 *
 * One curl handle per thread keeps its connection alive between calls
 * (HTTP/1.1 keep-alive).  Every call carries X-Kite-Version: 3 and
 * "Authorization: token KEY:TOKEN", the secrets re-read whenever their files
 * change (checked with stat before each call).
 *
 * Never a blind re-post.  libcurl silently re-sends a request whose reused
 * connection died before any answer — for a POST that the broker may have
 * acted on, that would be a second order with the same tag.  Request bodies
 * are therefore handed to curl through a read callback with no way to
 * rewind: curl cannot send them twice, and such a call fails instead
 * (CURLE_SEND_FAIL_REWIND), which an order call reports as an unknown
 * outcome.  GETs carry no body and may be retried freely.
 *
 * 429 (rate limit): the pacer is pushed out (0.5 s, doubling) and the same
 * call is made again — up to 4 times for queries, modifications and
 * cancellations.  A placement is not repeated here: Kite documents 429 as a
 * NetworkException ("Too many requests"), which on a placement does not
 * promise that nothing happened, so the caller looks the tag up first.
 */
#include "broker/kite_int.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ANSWER_MAX   (16u << 20)        /* bytes of one answer */
#define RETRIES_429  4
#define PAUSE_429    (HH_NS_PER_S / 2)

/* ---- secrets ----------------------------------------------------------- */

static bool same_file(const struct hh_kite__secret *s, const struct stat *st)
{
    return s->value[0] && s->dev == st->st_dev && s->ino == st->st_ino &&
           s->size == st->st_size && s->mtime.tv_sec == st->st_mtim.tv_sec &&
           s->mtime.tv_nsec == st->st_mtim.tv_nsec;
}

/* One token of [A-Za-z0-9], surrounding blanks and newlines trimmed.  The
 * text is never echoed: messages name the file only. */
static int secret_read(struct hh_kite__secret *s, int fd, struct hh_diag *d)
{
    char buf[sizeof s->value + 2];
    ssize_t got = read(fd, buf, sizeof buf - 1);
    size_t a = 0, b;

    if (got < 0)
        return hh_diag_set(d, HH_ECONFIG, "%s: cannot read: %s", s->path, strerror(errno));
    b = (size_t)got;
    while (a < b && (buf[a] == ' ' || buf[a] == '\t' || buf[a] == '\n' || buf[a] == '\r'))
        a++;
    while (b > a && (buf[b - 1] == ' ' || buf[b - 1] == '\t' || buf[b - 1] == '\n' ||
                     buf[b - 1] == '\r'))
        b--;
    if (b == a || b - a >= sizeof s->value)
        return hh_diag_set(d, HH_ECONFIG, "%s: empty or too long", s->path);
    for (size_t i = a; i < b; i++) {
        char c = buf[i];

        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')))
            return hh_diag_set(d, HH_ECONFIG,
                               "%s: not one token of letters and digits", s->path);
    }
    memcpy(s->value, buf + a, b - a);
    s->value[b - a] = '\0';
    return HH_OK;
}

int hh_kite__secret_check(struct hh_kite__secret *s, bool *changed, struct hh_diag *d)
{
    struct stat st;
    int fd, rc;

    *changed = false;
    if (stat(s->path, &st) != 0)
        return hh_diag_set(d, HH_ECONFIG, "%s: %s", s->path, strerror(errno));
    if (same_file(s, &st) && !(st.st_mode & 077))
        return HH_OK;
    fd = open(s->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return hh_diag_set(d, HH_ECONFIG, "%s: %s", s->path, strerror(errno));
    /* the mode of what was opened, not of what was stat'ed */
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        rc = hh_diag_set(d, HH_ECONFIG, "%s: not a regular file", s->path);
    } else if (st.st_mode & 077) {
        rc = hh_diag_set(d, HH_ECONFIG,
                         "%s: readable by group or others (mode %03o): chmod 600 it",
                         s->path, (unsigned)(st.st_mode & 0777));
    } else if ((rc = secret_read(s, fd, d)) == HH_OK) {
        s->dev = st.st_dev;
        s->ino = st.st_ino;
        s->size = st.st_size;
        s->mtime = st.st_mtim;
        *changed = true;
    }
    close(fd);
    if (rc)
        s->value[0] = '\0';
    return rc;
}

/* ---- connections -------------------------------------------------------- */

static size_t on_body(char *p, size_t size, size_t nmemb, void *ctx)
{
    struct hh_kite__http *h = ctx;
    size_t n = size * nmemb;

    if (h->overflow || h->len + n + 1 > ANSWER_MAX) {
        h->overflow = true;
        return n;                       /* drained, judged after the call */
    }
    if (h->len + n + 1 > h->cap) {
        size_t c = h->cap ? h->cap : 4096;
        char *x;

        while (c < h->len + n + 1)
            c *= 2;
        if (!(x = realloc(h->body, c))) {
            h->overflow = true;
            return n;
        }
        h->body = x;
        h->cap = c;
    }
    memcpy(h->body + h->len, p, n);
    h->len += n;
    h->body[h->len] = '\0';
    return n;
}

/* The request body, read once: no seek callback, so curl can never send it
 * a second time (see the file comment). */
static size_t on_upload(char *p, size_t size, size_t nmemb, void *ctx)
{
    struct hh_kite__http *h = ctx;
    size_t n = size * nmemb, left = h->up_len - h->up_off;

    if (n > left)
        n = left;
    memcpy(p, h->upload + h->up_off, n);
    h->up_off += n;
    return n;
}

int hh_kite__http_init(struct hh_kite *k, struct hh_kite__http *h)
{
    CURL *c = curl_easy_init();

    memset(h, 0, sizeof *h);
    if (!c)
        return HH_ENOMEM;
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)k->timeout_ms);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
                     (long)(k->timeout_ms < 5000 ? k->timeout_ms : 5000));
    curl_easy_setopt(c, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, h);
    curl_easy_setopt(c, CURLOPT_READFUNCTION, on_upload);
    curl_easy_setopt(c, CURLOPT_READDATA, h);
    if (k->ca_file)
        curl_easy_setopt(c, CURLOPT_CAINFO, k->ca_file);
    h->curl = c;
    return HH_OK;
}

void hh_kite__http_free(struct hh_kite__http *h)
{
    if (h->curl)
        curl_easy_cleanup(h->curl);
    free(h->body);
    memset(h, 0, sizeof *h);
}

/* ---- authorisation ------------------------------------------------------ */

/*
 * The Authorization header for the next call, the secrets re-read when
 * their files changed.  An order call while blocked by a TokenException is
 * refused without a request unless the token file changed since.
 */
int hh_kite__secrets(struct hh_kite *k, struct hh_diag *d)
{
    bool ck = false, ct = false;
    int rc = hh_kite__secret_check(&k->key, &ck, d);

    if (rc == HH_OK)
        rc = hh_kite__secret_check(&k->token, &ct, d);
    if (rc == HH_OK && (ck || ct)) {
        atomic_fetch_add(&k->n_reloads, 1);
        k->auth_blocked = false;        /* a new login: try it */
    }
    return rc;
}

static int auth_header(struct hh_kite *k, enum hh_kite__call call, char *hdr, size_t cap,
                       struct hh_diag *d)
{
    int rc;

    pthread_mutex_lock(&k->auth_mu);
    rc = hh_kite__secrets(k, d);
    if (rc == HH_OK && k->auth_blocked && hh_kite__is_order_call(call))
        rc = hh_diag_set(d, HH_EAUTH,
                         "access token refused (TokenException): order calls wait for a "
                         "new token in %s", k->token.path);
    if (rc == HH_OK)
        snprintf(hdr, cap, "Authorization: token %s:%s", k->key.value, k->token.value);
    pthread_mutex_unlock(&k->auth_mu);
    return rc;
}

/* A TokenException: block order calls until the token file changes. */
static void auth_refused(struct hh_kite *k)
{
    pthread_mutex_lock(&k->auth_mu);
    k->auth_blocked = true;
    pthread_mutex_unlock(&k->auth_mu);
    atomic_fetch_add(&k->n_auth, 1);
}

/* ---- one request --------------------------------------------------------- */

struct req {
    enum hh_kite__call call;
    const char *method, *path, *body, *ctype;
};

struct outcome {
    long http;
    bool sent, timed_out;
    CURLcode cc;
};

static void set_method(CURL *c, struct hh_kite__http *h, const struct req *q)
{
    h->upload = q->body;
    h->up_len = q->body ? strlen(q->body) : 0;
    h->up_off = 0;
    if (q->body) {
        curl_easy_setopt(c, CURLOPT_POST, 1L);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, NULL);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)h->up_len);
    } else {
        curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
    }
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST,
                     strcmp(q->method, q->body ? "POST" : "GET") ? q->method : NULL);
}

static bool add_header(struct curl_slist **hs, const char *line)
{
    struct curl_slist *t = curl_slist_append(*hs, line);

    if (t)
        *hs = t;
    return t != NULL;
}

static int perform(struct hh_kite *k, struct hh_kite__http *h, const struct req *q,
                   const char *auth, struct outcome *out, struct hh_diag *d)
{
    char url[1024], ctype[96];
    struct curl_slist *hs = NULL;
    CURL *c = h->curl;
    long reqsize = 0;
    int rc = HH_OK;

    if (snprintf(url, sizeof url, "%s%s", k->api_url, q->path) >= (int)sizeof url)
        return hh_diag_set(d, HH_EINVAL, "request path too long");
    snprintf(ctype, sizeof ctype, "Content-Type: %s",
             q->ctype ? q->ctype : "application/x-www-form-urlencoded");
    if (!add_header(&hs, "X-Kite-Version: 3") || !add_header(&hs, auth) ||
        !add_header(&hs, "Expect:") || (q->body && !add_header(&hs, ctype))) {
        curl_slist_free_all(hs);
        return hh_diag_set(d, HH_ENOMEM, "out of memory");
    }
    h->len = 0;
    h->overflow = false;
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hs);
    set_method(c, h, q);
    atomic_fetch_add(&k->n_requests, 1);
    out->cc = curl_easy_perform(c);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
    curl_slist_free_all(hs);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->http);
    curl_easy_getinfo(c, CURLINFO_REQUEST_SIZE, &reqsize);
    out->sent = reqsize > 0;
    out->timed_out = out->cc == CURLE_OPERATION_TIMEDOUT;
    if (out->cc != CURLE_OK) {
        rc = hh_kite__map_transport(out->timed_out, out->sent, q->call);
        hh_diag_set(d, rc, "%s %s: %s%s", q->method, q->path, curl_easy_strerror(out->cc),
                    out->sent ? "" : " (not sent)");
    } else if (h->overflow) {
        rc = hh_diag_set(d, hh_kite__map_error(500, NULL, q->call),
                         "%s %s: answer too large", q->method, q->path);
    }
    return rc;
}

int hh_kite__call(struct hh_kite *k, struct hh_kite__http *h, enum hh_kite__call call,
                  const char *method, const char *path, const char *body,
                  const char *ctype, struct json_object **data, bool *limited,
                  struct hh_diag *d)
{
    struct req q = { call, method, path, body, ctype };
    struct hh_kite__lim *lim = hh_kite__is_order_call(call) ? &k->olim : &k->qlim;
    char auth[sizeof k->key.value + sizeof k->token.value + 32];
    struct outcome out;
    uint64_t ticket;
    int rc;

    *data = NULL;
    if (limited)
        *limited = false;
    for (int attempt = 0;; attempt++) {
        if ((rc = auth_header(k, call, auth, sizeof auth, d)))
            return rc;
        ticket = hh_kite__lim_acquire(lim, NULL);
        if (hh_kite__is_order_call(call))
            atomic_fetch_add(&k->n_order_calls, 1);
        memset(&out, 0, sizeof out);
        rc = perform(k, h, &q, auth, &out, d);
        hh_kite__lim_release(lim, ticket);
        memset(auth, 0, sizeof auth);
        if (rc)
            break;
        if (out.http != 429) {
            rc = hh_kite__parse_answer(h->body ? h->body : "", h->len, out.http, call, data, d);
            break;
        }
        atomic_fetch_add(&k->n_limited, 1);
        hh_kite__lim_backoff(lim, PAUSE_429 << (attempt < 3 ? attempt : 3));
        rc = hh_diag_set(d, HH_EUNAVAIL, "%s %s: 429 too many requests", method, path);
        if (call == HH_KITE__PLACE || attempt + 1 >= RETRIES_429) {
            if (limited)
                *limited = true;
            return rc;
        }
    }
    if (rc == HH_EAUTH)
        auth_refused(k);
    else if (rc == HH_EBROKER)
        atomic_fetch_add(&k->n_rejected, 1);
    else if (rc == HH_ETIMEOUT && hh_kite__is_order_call(call))
        atomic_fetch_add(&k->n_unknown, 1);
    return rc;
}
