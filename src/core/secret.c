/*
 * secret.c — reading secret files (contract in secret.h).
 *
 * The mode is checked on the descriptor that is read (fstat after open),
 * so a file swapped between a check and the read cannot slip through.
 * Invariant: the file's bytes live only in `buf` of read_all's caller and
 * in `out`, and both are wiped on every path that does not hand `out` back.
 */
#include "core/secret.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Open path after checking it is a private regular file. */
static int open_private(const char *path, const char *what, int *fd, struct hh_diag *d)
{
    struct stat st;
    int rc;

    *fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (*fd < 0)
        return hh_diag_set(d, HH_EIO, "%s %s: %s", what, path, strerror(errno));
    if (fstat(*fd, &st) != 0 || !S_ISREG(st.st_mode))
        rc = hh_diag_set(d, HH_ECONFIG, "%s %s: not a regular file", what, path);
    else if (st.st_mode & 077)
        rc = hh_diag_set(d, HH_ECONFIG,
                         "%s %s: readable or writable by group or others (mode %04o); "
                         "chmod 600 it", what, path, (unsigned)(st.st_mode & 07777));
    else
        return HH_OK;
    close(*fd);
    *fd = -1;
    return rc;
}

/* The whole file into buf[0..*n), NUL-terminated. */
static int read_all(int fd, const char *path, const char *what, char *buf, size_t cap,
                    size_t *n, struct hh_diag *d)
{
    ssize_t r;

    *n = 0;
    while ((r = read(fd, buf + *n, cap - 1 - *n)) > 0)
        *n += (size_t)r;
    if (r < 0)
        return hh_diag_set(d, HH_EIO, "%s %s: %s", what, path, strerror(errno));
    if (*n == cap - 1)
        return hh_diag_set(d, HH_ECONFIG, "%s %s: larger than %d bytes", what, path,
                           HH_SECRET_FILE_MAX - 1);
    buf[*n] = '\0';
    return HH_OK;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Decode the hex line s[0..n) into out; false when malformed or too long. */
static bool unhex(const char *s, size_t n, unsigned char *out, size_t max)
{
    if (n % 2 || n / 2 > max)
        return false;
    for (size_t i = 0; i < n; i += 2) {
        int hi = hexval(s[i]), lo = hexval(s[i + 1]);

        if (hi < 0 || lo < 0)
            return false;
        out[i / 2] = (unsigned char)(hi << 4 | lo);
    }
    return true;
}

/* The one key line of buf (blank and '#' lines skipped), trimmed. */
static int key_line(char *buf, const char **line, size_t *len)
{
    char *save = NULL;
    int found = 0;

    for (char *l = strtok_r(buf, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
        size_t n;

        l += strspn(l, " \t\r");
        n = strlen(l);
        while (n && (l[n - 1] == ' ' || l[n - 1] == '\t' || l[n - 1] == '\r'))
            n--;
        if (!n || *l == '#')
            continue;
        *line = l;
        *len = n;
        found++;
    }
    return found;
}

int hh_secret_read_hex(const char *path, const char *what, unsigned char *out, size_t min,
                       size_t max, size_t *len, struct hh_diag *d)
{
    char buf[HH_SECRET_FILE_MAX];
    const char *line = NULL;
    size_t size = 0, n = 0;
    int fd, rc = open_private(path, what, &fd, d);

    *len = 0;
    if (rc)
        return rc;
    rc = read_all(fd, path, what, buf, sizeof buf, &size, d);
    close(fd);
    if (!rc && key_line(buf, &line, &n) != 1)
        rc = hh_diag_set(d, HH_ECONFIG, "%s %s: expected exactly one line of hex digits",
                         what, path);
    if (!rc && (n / 2 < min || !unhex(line, n, out, max)))
        rc = hh_diag_set(d, HH_ECONFIG, "%s %s: the key must be %zu-%zu hex digits "
                         "(%zu-%zu bytes)", what, path, 2 * min, 2 * max, min, max);
    if (!rc)
        *len = n / 2;
    else
        OPENSSL_cleanse(out, max);
    OPENSSL_cleanse(buf, sizeof buf);
    return rc;
}
