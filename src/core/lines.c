/*
 * lines.c — buffered line reader.
 *
 * Buffer invariant: bytes [start, end) of buf are read but not yet returned;
 * a returned line always lies inside [start, end) and stays valid until the
 * next call, which may move the remainder to the front of buf.  buf holds
 * cap + HH_LINES_PAD bytes, zeroed at allocation, and reads fill at most
 * cap: the pad is never written, so loads past a line stay in bounds and
 * read initialised bytes.
 */
#include "core/lines.h"

#include <errno.h>
#include <stdio.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define READ_CHUNK (1u << 20)

struct hh_lines {
    int fd;
    bool own_fd;
    bool eof;          /* read(2) returned 0 */
    bool follow;       /* keep polling for appended data */
    bool skipping;     /* inside an over-long line, discarding to newline */
    size_t max_line;
    char *buf;
    size_t cap, start, end;
    size_t scan;       /* where the search for '\n' resumes */
    uint64_t lineno;
    uint64_t offset;   /* bytes consumed by returned/skipped lines */
    uint64_t size;
    char name[256];
};

int hh_lines_fdopen(struct hh_lines **out, int fd, bool own_fd, const char *name,
                    size_t max_line, struct hh_diag *d)
{
    struct hh_lines *lr = calloc(1, sizeof *lr);
    struct stat st;

    if (!lr)
        return hh_diag_set(d, HH_ENOMEM, "%s: out of memory", name);
    lr->fd = fd;
    lr->own_fd = own_fd;
    lr->max_line = max_line ? max_line : HH_LINES_DEFAULT_MAX;
    lr->cap = lr->max_line + READ_CHUNK;
    lr->buf = calloc(1, lr->cap + HH_LINES_PAD);
    if (!lr->buf) {
        free(lr);
        return hh_diag_set(d, HH_ENOMEM, "%s: out of memory", name);
    }
    snprintf(lr->name, sizeof lr->name, "%s", name);
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
        lr->size = (uint64_t)st.st_size;
    *out = lr;
    return HH_OK;
}

int hh_lines_open(struct hh_lines **out, const char *path, size_t max_line,
                  struct hh_diag *d)
{
    int fd, rc;
    struct stat st;

    if (strcmp(path, "-") == 0)
        return hh_lines_fdopen(out, STDIN_FILENO, false, "<stdin>", max_line, d);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return hh_diag_set(d, HH_EIO, "%s: cannot open: %s", path, strerror(errno));
    if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
        close(fd);
        return hh_diag_set(d, HH_EIO, "%s: cannot read: is a directory", path);
    }
    rc = hh_lines_fdopen(out, fd, true, path, max_line, d);
    if (rc)
        close(fd);
    return rc;
}

void hh_lines_set_follow(struct hh_lines *lr, bool follow)
{
    lr->follow = follow;
}

/* Read more input after compacting; returns bytes read, 0 at EOF, <0 error. */
static ssize_t fill(struct hh_lines *lr)
{
    ssize_t n;

    if (lr->start > 0) {
        memmove(lr->buf, lr->buf + lr->start, lr->end - lr->start);
        lr->scan -= lr->start;
        lr->end -= lr->start;
        lr->start = 0;
    }
    do {
        n = read(lr->fd, lr->buf + lr->end, lr->cap - lr->end);
    } while (n < 0 && errno == EINTR);
    if (n > 0)
        lr->end += (size_t)n;
    return n;
}

int hh_lines_next(struct hh_lines *lr, const char **line, size_t *len)
{
    for (;;) {
        char *nl = memchr(lr->buf + lr->scan, '\n', lr->end - lr->scan);

        if (nl) {
            size_t ls = lr->start, le = (size_t)(nl - lr->buf);
            bool skipped = lr->skipping;

            lr->start = lr->scan = le + 1;
            lr->offset += le + 1 - ls;
            lr->lineno++;
            lr->skipping = false;
            /* Over-long even when it arrived whole within one read. */
            if (skipped || le - ls > lr->max_line)
                return HH_EFULL;
            if (le > ls && lr->buf[le - 1] == '\r')
                le--;
            *line = lr->buf + ls;
            *len = le - ls;
            return 1;
        }
        lr->scan = lr->end;
        if (lr->end - lr->start > lr->max_line) {
            /* Over-long: drop what we hold and discard until the newline. */
            lr->offset += lr->end - lr->start;
            lr->start = lr->scan = lr->end;
            lr->skipping = true;
        }
        if (!lr->eof || lr->follow) {
            ssize_t n = fill(lr);

            if (n < 0)
                return HH_EIO;
            if (n > 0)
                continue;
            lr->eof = true;
            if (lr->follow)
                return 0;  /* hold a partial line until its newline */
        }
        if (lr->start == lr->end && !lr->skipping)
            return 0;
        /* Final line without a newline. */
        {
            size_t ls = lr->start, le = lr->end;
            bool skipped = lr->skipping;

            lr->offset += le - ls;
            lr->start = lr->scan = le;
            lr->lineno++;
            lr->skipping = false;
            if (skipped || le - ls > lr->max_line)
                return HH_EFULL;
            if (le > ls && lr->buf[le - 1] == '\r')
                le--;
            *line = lr->buf + ls;
            *len = le - ls;
            return 1;
        }
    }
}

size_t hh_lines_buffered(const struct hh_lines *lr, const char **p)
{
    *p = lr->buf + lr->start;
    return lr->skipping ? 0 : lr->end - lr->start;
}

void hh_lines_consume(struct hh_lines *lr, size_t n, uint64_t lines)
{
    HH_ASSERT(n >= lines && lines >= 1 && n <= lr->end - lr->start &&
              lr->buf[lr->start + n - 1] == '\n');
    lr->start += n;
    if (lr->scan < lr->start)
        lr->scan = lr->start;
    lr->offset += n;
    lr->lineno += lines;
}

bool hh_lines_pending(const struct hh_lines *lr)
{
    return lr->end > lr->scan && memchr(lr->buf + lr->scan, '\n', lr->end - lr->scan) != NULL;
}

uint64_t hh_lines_lineno(const struct hh_lines *lr)
{
    return lr->lineno;
}

uint64_t hh_lines_offset(const struct hh_lines *lr)
{
    return lr->offset;
}

uint64_t hh_lines_size(const struct hh_lines *lr)
{
    return lr->size;
}

const char *hh_lines_name(const struct hh_lines *lr)
{
    return lr->name;
}

int hh_lines_end(const struct hh_lines *lr, int rc, const char *path, struct hh_diag *d)
{
    if (rc == HH_EFULL)
        return hh_diag_set(d, HH_ESYNTAX, "%s:%llu: line too long", path,
                           (unsigned long long)lr->lineno);
    if (rc < 0)
        return hh_diag_set(d, rc, "%s: read error", path);
    return HH_OK;
}

int hh_lines_fd(const struct hh_lines *lr)
{
    return lr->fd;
}

void hh_lines_close(struct hh_lines *lr)
{
    if (!lr)
        return;
    if (lr->own_fd)
        close(lr->fd);
    free(lr->buf);
    free(lr);
}
