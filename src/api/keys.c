/*
 * keys.c — the secret files: API keys ("KEY_ID SECRET_HEX" per line, blank
 * lines and '#' comments allowed) and the read token (one line).
 *
 * A secret file must be a regular file no one but its owner may read or
 * write (mode 0600 or stricter): anything else is refused, the message
 * naming the file and its mode.  Messages name the file and line, never
 * what the line holds.  Only the token's SHA-256 is kept; secrets are
 * wiped (OPENSSL_cleanse) whenever a copy is dropped.
 *
 * Rotation: the files are re-read on hh_api_reload() (SIGHUP) and by the
 * first request that finds one changed (device, inode, size, mtime,
 * ctime): several keys may be valid at once, and a removed key is refused
 * from the next request on.  A file that fails to read leaves no key and
 * no token valid (fail closed) until a good one is read.
 */
#include "api/api_int.h"

#include "core/grow.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LINE_MAX_LEN 1024
#define TOKEN_MIN    16

static void fileid_of(const struct stat *st, struct hh_api__fileid *id)
{
    id->exists = true;
    id->dev = st->st_dev;
    id->ino = st->st_ino;
    id->size = st->st_size;
    id->mtim = st->st_mtim;
    id->ctim = st->st_ctim;
}

static bool fileid_same(const struct hh_api__fileid *a, const struct hh_api__fileid *b)
{
    if (a->exists != b->exists)
        return false;
    return !a->exists ||
           (a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
            a->mtim.tv_sec == b->mtim.tv_sec && a->mtim.tv_nsec == b->mtim.tv_nsec &&
            a->ctim.tv_sec == b->ctim.tv_sec && a->ctim.tv_nsec == b->ctim.tv_nsec);
}

static void fileid_stat(const char *path, struct hh_api__fileid *id)
{
    struct stat st;

    memset(id, 0, sizeof *id);
    if (path && stat(path, &st) == 0)
        fileid_of(&st, id);
}

/* Open a secret file for reading after checking what it is: HH_EIO when
 * it cannot be opened, HH_ECONFIG when it is not a private regular file. */
static int open_secret(const char *path, const char *what, struct hh_api__fileid *id,
                       FILE **out, struct hh_diag *d)
{
    struct stat st;
    int rc, fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

    if (fd < 0)
        return hh_diag_set(d, HH_EIO, "%s %s: %s", what, path, strerror(errno));
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        rc = hh_diag_set(d, HH_ECONFIG, "%s %s: not a regular file", what, path);
        goto out_close;
    }
    if (st.st_mode & 077) {
        rc = hh_diag_set(d, HH_ECONFIG,
                         "%s %s: readable or writable by group or others (mode %04o); "
                         "chmod 600 it", what, path, (unsigned)(st.st_mode & 07777));
        goto out_close;
    }
    if (!(*out = fdopen(fd, "r"))) {
        rc = hh_diag_set(d, HH_ENOMEM, "%s %s: %s", what, path, strerror(errno));
        goto out_close;
    }
    if (id)
        fileid_of(&st, id);
    return HH_OK;
out_close:
    close(fd);
    return rc;
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

/* One "KEY_ID SECRET_HEX" line (already trimmed) into *k; a static reason
 * on error. */
static const char *parse_key(char *line, struct hh_api_key *k)
{
    char *save = NULL;
    char *id = strtok_r(line, " \t", &save);
    char *sec = strtok_r(NULL, " \t", &save);
    size_t n;

    if (!id || !sec || strtok_r(NULL, " \t", &save))
        return "expected KEY_ID SECRET_HEX";
    n = strlen(id);
    if (n > HH_API_KEY_ID_MAX ||
        strspn(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") != n)
        return "key id must be 1-64 characters of [A-Za-z0-9._-]";
    n = strlen(sec);
    if (n % 2 || n / 2 < HH_API_SECRET_MIN || n / 2 > HH_API_SECRET_MAX)
        return "secret must be 64-256 hex digits (32-128 bytes)";
    for (size_t i = 0; i < n; i += 2) {
        int hi = hexval(sec[i]), lo = hexval(sec[i + 1]);

        if (hi < 0 || lo < 0)
            return "secret must be hex digits";
        k->secret[i / 2] = (unsigned char)(hi << 4 | lo);
    }
    k->secret_len = n / 2;
    snprintf(k->id, sizeof k->id, "%s", id);
    return NULL;
}

/* Strip the end of line and leading blanks; NULL for a blank or comment
 * line. */
static char *trim(char *line)
{
    size_t n = strlen(line);

    while (n && (line[n - 1] == '\n' || line[n - 1] == '\r' || line[n - 1] == ' ' ||
                 line[n - 1] == '\t'))
        line[--n] = '\0';
    line += strspn(line, " \t");
    return *line && *line != '#' ? line : NULL;
}

static bool id_taken(const struct hh_api_key *keys, size_t n, const char *id)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(keys[i].id, id))
            return true;
    return false;
}

/* Read every key line of f into a fresh array. */
static int read_keys(FILE *f, const char *path, struct hh_api_key **keys, size_t *n,
                     struct hh_diag *d)
{
    char buf[LINE_MAX_LEN];
    struct hh_api_key *v = NULL;
    size_t nv = 0, cap = 0, lineno = 0;
    int rc = HH_OK;

    while (rc == HH_OK && fgets(buf, sizeof buf, f)) {
        char *line = (lineno++, trim(buf));
        const char *why;

        if (!line)
            continue;
        if (hh_grow(&v, &cap, nv + 1, sizeof *v) != HH_OK) {
            rc = hh_diag_set(d, HH_ENOMEM, "keys file %s: out of memory", path);
            break;
        }
        if ((why = parse_key(line, &v[nv])))
            rc = hh_diag_set(d, HH_ECONFIG, "keys file %s line %zu: %s", path, lineno, why);
        else if (id_taken(v, nv, v[nv].id))
            rc = hh_diag_set(d, HH_ECONFIG, "keys file %s line %zu: key id repeated", path,
                             lineno);
        else
            nv++;
    }
    OPENSSL_cleanse(buf, sizeof buf);
    if (rc == HH_OK && ferror(f))
        rc = hh_diag_set(d, HH_EIO, "keys file %s: read error", path);
    if (rc != HH_OK) {
        hh_api__keys_wipe(v, cap);
        return rc;
    }
    *keys = v, *n = nv;
    return HH_OK;
}

void hh_api__keys_wipe(struct hh_api_key *keys, size_t n)
{
    if (keys)
        OPENSSL_cleanse(keys, n * sizeof *keys);
    free(keys);
}

int hh_api__keys_parse(const char *path, struct hh_api_key **keys, size_t *n,
                       struct hh_api__fileid *id, struct hh_diag *d)
{
    FILE *f = NULL;
    int rc = open_secret(path, "keys file", id, &f, d);

    if (rc != HH_OK)
        return rc;
    rc = read_keys(f, path, keys, n, d);
    fclose(f);
    return rc;
}

/* The token file: one line of 16-512 visible ASCII characters. */
static int read_token(const char *path, unsigned char sha[32], struct hh_api__fileid *id,
                      struct hh_diag *d)
{
    char buf[LINE_MAX_LEN], *tok = NULL, *line;
    FILE *f = NULL;
    int rc = open_secret(path, "read token file", id, &f, d);
    size_t n;

    if (rc != HH_OK)
        return rc;
    while (rc == HH_OK && fgets(buf, sizeof buf, f)) {
        if (!(line = trim(buf)))
            continue;
        if (tok)
            rc = hh_diag_set(d, HH_ECONFIG, "read token file %s: more than one line", path);
        tok = line;
        n = strlen(tok);
        if (n < TOKEN_MIN || n > 512)
            rc = hh_diag_set(d, HH_ECONFIG, "read token file %s: the token must be 16-512 "
                             "characters", path);
        for (size_t i = 0; rc == HH_OK && i < n; i++)
            if (tok[i] < 0x21 || tok[i] > 0x7e)
                rc = hh_diag_set(d, HH_ECONFIG, "read token file %s: the token must be "
                                 "visible ASCII", path);
        if (rc == HH_OK)
            SHA256((const unsigned char *)tok, n, sha);
    }
    if (rc == HH_OK && !tok)
        rc = hh_diag_set(d, HH_ECONFIG, "read token file %s: no token", path);
    OPENSSL_cleanse(buf, sizeof buf);
    fclose(f);
    return rc;
}

/* Read both files into kr (kr->lock held).  Fail closed. */
static int load_locked(struct hh_api__keyring *kr, struct hh_diag *d)
{
    struct hh_api_key *keys = NULL;
    size_t n = 0;
    int rc = HH_OK;

    hh_api__keys_wipe(kr->keys, kr->nkeys);
    kr->keys = NULL, kr->nkeys = 0;
    kr->has_token = false;
    fileid_stat(kr->keys_path, &kr->keys_id);
    fileid_stat(kr->token_path, &kr->token_id);
    if (kr->keys_path) {
        rc = hh_api__keys_parse(kr->keys_path, &keys, &n, &kr->keys_id, d);
        if (rc != HH_OK)
            return rc;
    }
    if (kr->token_path) {
        rc = read_token(kr->token_path, kr->token_sha, &kr->token_id, d);
        if (rc != HH_OK) {
            hh_api__keys_wipe(keys, n);
            return rc;
        }
        kr->has_token = true;
    }
    kr->keys = keys, kr->nkeys = n;
    return HH_OK;
}

int hh_api__keys_init(struct hh_api__keyring *kr, const char *keys_path,
                      const char *token_path, hh_api_log_fn log, void *log_ctx,
                      struct hh_diag *d)
{
    memset(kr, 0, sizeof *kr);
    pthread_mutex_init(&kr->lock, NULL);
    kr->log = log, kr->log_ctx = log_ctx;
    if ((keys_path && !(kr->keys_path = strdup(keys_path))) ||
        (token_path && !(kr->token_path = strdup(token_path))))
        return hh_diag_set(d, HH_ENOMEM, "out of memory");
    return load_locked(kr, d);
}

void hh_api__keys_free(struct hh_api__keyring *kr)
{
    hh_api__keys_wipe(kr->keys, kr->nkeys);
    OPENSSL_cleanse(kr->token_sha, sizeof kr->token_sha);
    free(kr->keys_path);
    free(kr->token_path);
    pthread_mutex_destroy(&kr->lock);
    memset(kr, 0, sizeof *kr);
}

int hh_api__keys_reload(struct hh_api__keyring *kr, struct hh_diag *d)
{
    struct hh_diag local;
    int rc;

    pthread_mutex_lock(&kr->lock);
    rc = load_locked(kr, &local);
    pthread_mutex_unlock(&kr->lock);
    if (kr->log)
        kr->log(kr->log_ctx, rc == HH_OK ? HH_API_LOG_INFO : HH_API_LOG_ERROR,
                rc == HH_OK ? "api_keys_loaded" : "api_keys_reload_failed",
                rc == HH_OK ? "API keys and read token re-read" : local.msg);
    if (rc != HH_OK && d)
        *d = local;
    return rc;
}

void hh_api__keys_sync(struct hh_api__keyring *kr)
{
    struct hh_api__fileid k, t;
    bool same;

    fileid_stat(kr->keys_path, &k);
    fileid_stat(kr->token_path, &t);
    pthread_mutex_lock(&kr->lock);
    same = fileid_same(&k, &kr->keys_id) && fileid_same(&t, &kr->token_id);
    pthread_mutex_unlock(&kr->lock);
    if (!same)
        hh_api__keys_reload(kr, NULL);
}

bool hh_api__keys_get(struct hh_api__keyring *kr, const char *id, struct hh_api_key *out)
{
    bool found = false;

    pthread_mutex_lock(&kr->lock);
    for (size_t i = 0; i < kr->nkeys && !found; i++)
        if (!strcmp(kr->keys[i].id, id)) {
            *out = kr->keys[i];
            found = true;
        }
    pthread_mutex_unlock(&kr->lock);
    return found;
}

bool hh_api__token_configured(struct hh_api__keyring *kr)
{
    return kr->token_path != NULL;
}

bool hh_api__token_ok(struct hh_api__keyring *kr, const char *token)
{
    unsigned char got[32], want[32];
    bool has;

    SHA256((const unsigned char *)token, strlen(token), got);
    pthread_mutex_lock(&kr->lock);
    has = kr->has_token;
    memcpy(want, kr->token_sha, sizeof want);
    pthread_mutex_unlock(&kr->lock);
    has = (CRYPTO_memcmp(got, want, sizeof want) == 0) & has;
    OPENSSL_cleanse(want, sizeof want);
    return has;
}

int hh_api_key_read(const char *path, const char *id, struct hh_api_key *out,
                    struct hh_diag *d)
{
    struct hh_api_key *keys = NULL;
    size_t n = 0;
    int rc = hh_api__keys_parse(path, &keys, &n, NULL, d);

    if (rc != HH_OK)
        return rc;
    rc = hh_diag_set(d, HH_ENOTFOUND, "keys file %s: no key%s%s", path, id ? " " : "",
                     id ? id : "");
    for (size_t i = 0; i < n; i++)
        if (!id || !strcmp(keys[i].id, id)) {
            *out = keys[i];
            rc = HH_OK;
            break;
        }
    hh_api__keys_wipe(keys, n);
    return rc;
}
