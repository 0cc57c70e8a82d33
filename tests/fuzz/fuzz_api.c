/*
 * fuzz_api.c — the API's parsers on arbitrary bytes.  The first byte picks
 * one:
 *
 *   0  an allowlist entry (CIDR): parsed entries have an in-range prefix
 *      and no host bit set, and allow their own network address
 *   1  a request target against the route table: a route found matches
 *      the target's path exactly (same segments, {id} all digits)
 *   2  the four signed headers, method, target and body (split at '\n'):
 *      the answer is one of the refusal codes, or accepted only for a
 *      target whose signature we computed (never, for random bytes)
 *   3  a keys file: accepted files give ids of [A-Za-z0-9._-] and secrets
 *      of 32-128 bytes, and the error message never holds a secret line
 *   4  a nonce file: loading keeps only well-formed, unexpired lines, and
 *      the compacted file loads to the same set
 *
 * Files live in a directory of this process under /tmp (the secret-file
 * checks need a real file with mode 0600).
 */
#include "api/api_int.h"

#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NOW 1717390800000LL

static char dir[64];

static void need(bool cond, const char *what)
{
    if (!cond) {
        fprintf(stderr, "fuzz_api: %s\n", what);
        abort();
    }
}

static const char *file_of(const char *name, const uint8_t *data, size_t size)
{
    static char path[128];
    FILE *f;

    if (!dir[0]) {
        snprintf(dir, sizeof dir, "/tmp/hh-fuzz-api-%d", (int)getpid());
        mkdir(dir, 0700);
    }
    snprintf(path, sizeof path, "%s/%s", dir, name);
    f = fopen(path, "w");
    need(f != NULL, "cannot write a temporary file");
    fwrite(data, 1, size, f);
    fclose(f);
    chmod(path, 0600);
    return path;
}

static void fuzz_cidr(const char *s)
{
    struct hh_api__net n;
    struct sockaddr_storage ss = { 0 };
    int bytes;

    if (hh_api__net_parse(s, &n) != HH_OK)
        return;
    bytes = n.family == AF_INET ? 4 : 16;
    need(n.prefix >= 0 && n.prefix <= bytes * 8, "prefix out of range");
    for (int bit = n.prefix; bit < bytes * 8; bit++)
        need(!(n.addr[bit / 8] & (0x80 >> (bit % 8))), "a host bit is set");
    if (n.family == AF_INET) {
        ((struct sockaddr_in *)&ss)->sin_family = AF_INET;
        memcpy(&((struct sockaddr_in *)&ss)->sin_addr, n.addr, 4);
    } else {
        ((struct sockaddr_in6 *)&ss)->sin6_family = AF_INET6;
        memcpy(&((struct sockaddr_in6 *)&ss)->sin6_addr, n.addr, 16);
    }
    need(hh_api__net_allows(&n, 1, (struct sockaddr *)&ss), "a network refuses its own address");
}

/* Does path[0..len) have the shape of pattern? */
static bool same_shape(const char *pattern, const char *path, size_t len)
{
    const char *id = strstr(pattern, "{id}");
    size_t pre, post, mid;

    if (!id)
        return strlen(pattern) == len && !memcmp(pattern, path, len);
    pre = (size_t)(id - pattern), post = strlen(id + 4);
    if (len < pre + post + 1 || memcmp(pattern, path, pre) ||
        memcmp(id + 4, path + len - post, post))
        return false;
    mid = len - pre - post;
    for (size_t i = 0; i < mid; i++)
        if (path[pre + i] < '0' || path[pre + i] > '9')
            return false;
    return mid <= 19;
}

static void fuzz_route(const char *s, size_t len)
{
    const char *allow = NULL;
    bool known;
    uint64_t id;
    size_t plen = strcspn(s, "?");
    const struct hh_api__route *r;

    (void)len;
    for (int m = 0; m < 2; m++) {
        r = hh_api__route_find(m ? "POST" : "GET", s, plen, &known, &allow, &id);
        if (r)
            need(same_shape(r->path, s, plen), "a route matched another shape");
        if (known)
            need(allow && (!strcmp(allow, "GET") || !strcmp(allow, "POST")), "405 without Allow");
    }
}

static struct hh_api *api_once(void)
{
    static struct hh_api *a;
    static const uint8_t keys[] =
        "k1 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n";
    struct hh_api_config cfg = { .listen = "127.0.0.1:0" };
    struct hh_diag d;
    char nonces[128];

    if (a)
        return a;
    cfg.keys_file = strdup(file_of("keys", keys, sizeof keys - 1));
    snprintf(nonces, sizeof nonces, "%s/n.nonces", dir);
    cfg.nonce_file = nonces;
    need(hh_api_new(&cfg, &a, &d) == HH_OK, "hh_api_new");
    free((void *)cfg.keys_file);
    return a;
}

static void fuzz_verify(char *s)
{
    char *f[7] = { NULL };
    char key_id[HH_API_KEY_ID_MAX + 1];
    struct hh_api__nonce claim;
    int n = 0, rc;

    for (char *p = s; n < 7 && p; n++) {
        f[n] = p;
        if ((p = strchr(p, '\n')))
            *p++ = '\0';
    }
    {
        struct hh_api__sigreq r = { f[0], f[1], f[2], f[3], "POST", f[4] ? f[4] : "/",
                                    f[5], f[5] ? strlen(f[5]) : 0 };

        rc = hh_api__verify(api_once(), &r, NOW, key_id, &claim);
    }
    need((rc >= 0 && rc < HH_API_REF_COUNT && rc != HH_API_REF_FORBIDDEN_ADDRESS) ||
         rc == HH_API__VERIFY_NOROOM, "verify returned something else");
}

static void fuzz_keys(const uint8_t *data, size_t size)
{
    const char *p = file_of("fuzzkeys", data, size);
    struct hh_api_key *keys = NULL;
    struct hh_diag d = { { 0 } };
    size_t n = 0;

    if (hh_api__keys_parse(p, &keys, &n, NULL, &d) != HH_OK) {
        need(!strchr(d.msg, '\n'), "a line of the file in the message");
        return;
    }
    for (size_t i = 0; i < n; i++) {
        size_t l = strlen(keys[i].id);

        need(l >= 1 && l <= HH_API_KEY_ID_MAX, "key id length");
        need(strspn(keys[i].id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                    "0123456789._-") == l, "key id characters");
        need(keys[i].secret_len >= HH_API_SECRET_MIN && keys[i].secret_len <= HH_API_SECRET_MAX,
             "secret length");
    }
    hh_api__keys_wipe(keys, n);
}

static void fuzz_nonces(const uint8_t *data, size_t size)
{
    const char *p = file_of("fuzz.nonces", data, size);
    struct hh_api__nonces a, b;
    struct hh_diag d;
    size_t live = 0;

    if (hh_api__nonces_open(&a, p, NOW, &d) != HH_OK) {
        hh_api__nonces_close(&a);
        return;
    }
    for (size_t i = 0; i < a.cap; i++) {
        need(a.tab[i].expiry_ms == 0 || a.tab[i].expiry_ms > NOW, "an expired entry loaded");
        live += a.tab[i].expiry_ms != 0;
    }
    need(live == a.n, "count");
    need(hh_api__nonces_open(&b, p, NOW, &d) == HH_OK, "the compacted file reopens");
    need(b.n == a.n, "the compacted file holds the same entries");
    hh_api__nonces_close(&a);
    hh_api__nonces_close(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s;

    if (size < 1 || size > 4096)
        return 0;
    if (!(s = malloc(size)))
        return 0;
    memcpy(s, data + 1, size - 1);
    s[size - 1] = '\0';
    switch (data[0] % 5) {
    case 0: fuzz_cidr(s); break;
    case 1: fuzz_route(s, size - 1); break;
    case 2: fuzz_verify(s); break;
    case 3: fuzz_keys(data + 1, size - 1); break;
    case 4: fuzz_nonces(data + 1, size - 1); break;
    }
    free(s);
    return 0;
}
