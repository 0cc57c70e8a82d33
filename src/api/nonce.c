/*
 * nonce.c — spent nonces, so a signed request is never accepted twice
 * within the window, not even across a restart.
 *
 * In memory: an open-addressing set of the first 16 bytes of SHA-256 of
 * each nonce (fixed size whatever the nonce's length; a collision would
 * need 2^64 work and only refuse the colliding request) with the time
 * until which it must be remembered.  Expired entries are dropped when
 * the table is rebuilt (before it grows); at most HH_API__NONCES_MAX live.
 *
 * On disk: one line per spent nonce, "EXPIRY_MS HEX32\n", appended and
 * fdatasync'ed by the aux thread (the only writer) before the request that
 * spent it has any effect.  A torn last line (a crash mid-append) belongs
 * to a request that was never answered and is skipped.  At open, and
 * whenever the file has grown to several times what is live, the live
 * entries are written to a temporary file that replaces it (fsync, rename,
 * fsync of the directory), so the file stays proportional to one window.
 */
#include "api/api_int.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define INITIAL_CAP   1024
#define LINE_LEN      (20 + 1 + 32 + 1)      /* the longest line */
#define COMPACT_BYTES (1u << 20)             /* never compact a file smaller than this */

static size_t home(const unsigned char d[16], size_t cap)
{
    uint64_t h;

    memcpy(&h, d, sizeof h);
    return (size_t)h & (cap - 1);
}

/* The entry for d, or the empty slot where it would go. */
static struct hh_api__nonce *probe(struct hh_api__nonce *tab, size_t cap,
                                   const unsigned char d[16])
{
    size_t i = home(d, cap);

    while (tab[i].expiry_ms && memcmp(tab[i].d, d, 16))
        i = (i + 1) & (cap - 1);
    return &tab[i];
}

/* A table of `cap` slots holding the entries of ns not expired at now. */
static int rebuild(struct hh_api__nonces *ns, size_t cap, int64_t now_ms)
{
    struct hh_api__nonce *tab = calloc(cap, sizeof *tab);
    size_t n = 0;

    if (!tab)
        return HH_ENOMEM;
    for (size_t i = 0; i < ns->cap; i++)
        if (ns->tab[i].expiry_ms > now_ms) {
            *probe(tab, cap, ns->tab[i].d) = ns->tab[i];
            n++;
        }
    free(ns->tab);
    ns->tab = tab, ns->cap = cap, ns->n = n;
    return HH_OK;
}

/* Room for one more entry: purge, then grow when still half full. */
static int make_room(struct hh_api__nonces *ns, int64_t now_ms)
{
    if (ns->n + 1 <= ns->cap / 2)
        return HH_OK;
    if (rebuild(ns, ns->cap, now_ms) != HH_OK)
        return HH_ENOMEM;
    if (ns->n + 1 <= ns->cap / 2)
        return HH_OK;
    if (ns->cap / 2 >= HH_API__NONCES_MAX)
        return HH_EFULL;
    return rebuild(ns, ns->cap * 2, now_ms);
}

/* Record (or extend) an entry; the lock is held. */
static int insert(struct hh_api__nonces *ns, const struct hh_api__nonce *e, int64_t now_ms)
{
    struct hh_api__nonce *slot = probe(ns->tab, ns->cap, e->d);
    int rc;

    if (slot->expiry_ms) {
        if (slot->expiry_ms > now_ms)
            return HH_EEXIST;
        slot->expiry_ms = e->expiry_ms;
        return HH_OK;
    }
    if ((rc = make_room(ns, now_ms)) != HH_OK)
        return rc;
    *probe(ns->tab, ns->cap, e->d) = *e;
    ns->n++;
    return HH_OK;
}

int hh_api__nonces_claim(struct hh_api__nonces *ns, const char *nonce, int64_t expiry_ms,
                         int64_t now_ms, struct hh_api__nonce *claim)
{
    unsigned char full[SHA256_DIGEST_LENGTH];
    int rc;

    SHA256((const unsigned char *)nonce, strlen(nonce), full);
    memcpy(claim->d, full, sizeof claim->d);
    claim->expiry_ms = expiry_ms;
    pthread_mutex_lock(&ns->lock);
    rc = insert(ns, claim, now_ms);
    pthread_mutex_unlock(&ns->lock);
    return rc;
}

/* ---- the file --------------------------------------------------------- */

static size_t format_line(char *p, const struct hh_api__nonce *e)
{
    static const char digits[] = "0123456789abcdef";
    size_t n = (size_t)sprintf(p, "%" PRId64 " ", e->expiry_ms);

    for (int i = 0; i < 16; i++) {
        p[n++] = digits[e->d[i] >> 4];
        p[n++] = digits[e->d[i] & 15];
    }
    p[n++] = '\n';
    return n;
}

static int lowhex(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* One line of the file; false for a malformed (torn) one. */
static bool parse_line(const char *s, struct hh_api__nonce *e)
{
    char *end;
    const char *h;
    long long v = strtoll(s, &end, 10);

    if (end == s || *end != ' ' || v <= 0)
        return false;
    h = end + 1;
    if (strlen(h) != 33 || h[32] != '\n')
        return false;
    for (int i = 0; i < 16; i++) {
        int hi = lowhex(h[2 * i]), lo = lowhex(h[2 * i + 1]);

        if (hi < 0 || lo < 0)
            return false;
        e->d[i] = (unsigned char)(hi << 4 | lo);
    }
    e->expiry_ms = v;
    return true;
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);

        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return HH_EIO;
        p += w, n -= (size_t)w;
    }
    return HH_OK;
}

static int fsync_dir(const char *path)
{
    char *copy = strdup(path);
    int fd, rc;

    if (!copy)
        return HH_ENOMEM;
    fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    free(copy);
    if (fd < 0)
        return HH_EIO;
    rc = fsync(fd) == 0 ? HH_OK : HH_EIO;
    close(fd);
    return rc;
}

/* The live entries as file text (the lock is taken here). */
static int snapshot(struct hh_api__nonces *ns, int64_t now_ms, struct hh_api__buf *b)
{
    char line[LINE_LEN + 1];

    pthread_mutex_lock(&ns->lock);
    for (size_t i = 0; i < ns->cap; i++)
        if (ns->tab[i].expiry_ms > now_ms)
            hh_api__buf_put(b, line, format_line(line, &ns->tab[i]));
    pthread_mutex_unlock(&ns->lock);
    return b->failed ? HH_ENOMEM : HH_OK;
}

/* Replace the file by the live entries and reopen it for appending. */
static int compact(struct hh_api__nonces *ns, int64_t now_ms, struct hh_diag *d)
{
    struct hh_api__buf b = { 0 };
    char tmp[4096];
    int fd, rc;

    snprintf(tmp, sizeof tmp, "%s.tmp", ns->path);
    if ((rc = snapshot(ns, now_ms, &b)) != HH_OK)
        return hh_diag_set(d, rc, "nonce file %s: out of memory", ns->path);
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    rc = fd < 0 || write_all(fd, b.p ? b.p : "", b.len) != HH_OK || fsync(fd) != 0 ? HH_EIO
                                                                                   : HH_OK;
    if (fd >= 0)
        close(fd);
    if (rc == HH_OK && (rename(tmp, ns->path) != 0 || fsync_dir(ns->path) != HH_OK))
        rc = HH_EIO;
    hh_api__buf_free(&b);
    if (rc != HH_OK)
        return hh_diag_set(d, rc, "nonce file %s: cannot rewrite: %s", ns->path,
                           strerror(errno));
    if (ns->fd >= 0)
        close(ns->fd);
    ns->fd = open(ns->path, O_WRONLY | O_APPEND | O_CLOEXEC);
    if (ns->fd < 0)
        return hh_diag_set(d, HH_EIO, "nonce file %s: %s", ns->path, strerror(errno));
    ns->file_bytes = (uint64_t)lseek(ns->fd, 0, SEEK_END);
    return HH_OK;
}

/* Load the file's live entries into the table. */
static int load(struct hh_api__nonces *ns, int64_t now_ms, struct hh_diag *d)
{
    char line[128];
    FILE *f = fopen(ns->path, "r");
    int rc = HH_OK;

    if (!f)
        return errno == ENOENT ? HH_OK
                               : hh_diag_set(d, HH_EIO, "nonce file %s: %s", ns->path,
                                             strerror(errno));
    while (rc == HH_OK && fgets(line, sizeof line, f)) {
        struct hh_api__nonce e;

        if (parse_line(line, &e) && e.expiry_ms > now_ms) {
            rc = insert(ns, &e, now_ms);
            rc = rc == HH_EEXIST ? HH_OK : rc;
        }
    }
    if (rc == HH_OK && ferror(f))
        rc = hh_diag_set(d, HH_EIO, "nonce file %s: read error", ns->path);
    else if (rc != HH_OK)
        hh_diag_set(d, rc, "nonce file %s: too many live nonces", ns->path);
    fclose(f);
    return rc;
}

int hh_api__nonces_open(struct hh_api__nonces *ns, const char *path, int64_t now_ms,
                        struct hh_diag *d)
{
    int rc;

    memset(ns, 0, sizeof *ns);
    ns->fd = -1;
    pthread_mutex_init(&ns->lock, NULL);
    ns->cap = INITIAL_CAP;
    if (!(ns->tab = calloc(ns->cap, sizeof *ns->tab)) || (path && !(ns->path = strdup(path))))
        return hh_diag_set(d, HH_ENOMEM, "out of memory");
    if (!path)
        return HH_OK;
    if ((rc = load(ns, now_ms, d)) != HH_OK)
        return rc;
    return compact(ns, now_ms, d);
}

void hh_api__nonces_close(struct hh_api__nonces *ns)
{
    if (ns->fd >= 0)
        close(ns->fd);
    free(ns->tab);
    free(ns->path);
    pthread_mutex_destroy(&ns->lock);
    memset(ns, 0, sizeof *ns);
    ns->fd = -1;
}

int hh_api__nonces_write(struct hh_api__nonces *ns, const struct hh_api__nonce *v, size_t n,
                         int64_t now_ms, struct hh_diag *d)
{
    char *text = malloc(n * LINE_LEN + 1);
    size_t len = 0, live;

    if (!text)
        return hh_diag_set(d, HH_ENOMEM, "nonce file %s: out of memory", ns->path);
    for (size_t i = 0; i < n; i++)
        len += format_line(text + len, &v[i]);
    if (ns->fd < 0 || write_all(ns->fd, text, len) != HH_OK || fdatasync(ns->fd) != 0) {
        free(text);
        return hh_diag_set(d, HH_EIO, "nonce file %s: cannot append: %s", ns->path,
                           strerror(errno));
    }
    free(text);
    ns->file_bytes += len;
    pthread_mutex_lock(&ns->lock);
    live = ns->n;
    pthread_mutex_unlock(&ns->lock);
    if (ns->file_bytes > COMPACT_BYTES && ns->file_bytes > 4 * (uint64_t)live * LINE_LEN)
        return compact(ns, now_ms, d);
    return HH_OK;
}
