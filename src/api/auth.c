/*
 * auth.c — who may ask what (SPEC §12): the client allowlist, signed
 * requests and the signing function clients share with the server.
 *
 * A signed request is checked in the order of its refusal codes, each
 * step only reached when the previous passed:
 *   MISSING_AUTH     a header absent or empty, or the nonce not 16-64
 *                    characters of [A-Za-z0-9_-]
 *   UNKNOWN_KEY      X-HH-Key not in the keys file (re-read when changed)
 *   STALE_TIMESTAMP  not 1-15 digits, or more than the window from now
 *   BAD_SIGNATURE    not the expected 64 lowercase hex digits
 *   REPLAYED_NONCE   spent by an earlier request whose signature was good
 * The signature is compared with CRYPTO_memcmp over all 64 characters
 * whatever was sent, so the time taken says nothing about how much of it
 * was right.  The secret is copied out of the keyring onto the stack for
 * the HMAC and wiped afterwards.
 */
#include "api/api_int.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- allowlist -------------------------------------------------------- */

static int parse_prefix(const char *s, int max)
{
    int v = 0;

    if (!*s)
        return -1;
    for (; *s; s++) {
        if (*s < '0' || *s > '9' || v > max)
            return -1;
        v = v * 10 + (*s - '0');
    }
    return v <= max ? v : -1;
}

/* Clear the bits after the prefix. */
static void mask(unsigned char *addr, int bytes, int prefix)
{
    for (int i = 0; i < bytes; i++) {
        int keep = prefix - i * 8;

        if (keep >= 8)
            continue;
        addr[i] &= keep <= 0 ? 0 : (unsigned char)(0xff << (8 - keep));
    }
}

int hh_api__net_parse(const char *text, struct hh_api__net *out)
{
    char host[64];
    const char *slash = strchr(text, '/');
    size_t hl = slash ? (size_t)(slash - text) : strlen(text);
    int bytes;

    if (hl == 0 || hl >= sizeof host)
        return HH_EINVAL;
    memcpy(host, text, hl);
    host[hl] = '\0';
    memset(out, 0, sizeof *out);
    if (inet_pton(AF_INET, host, out->addr) == 1)
        out->family = AF_INET, bytes = 4;
    else if (inet_pton(AF_INET6, host, out->addr) == 1)
        out->family = AF_INET6, bytes = 16;
    else
        return HH_EINVAL;
    out->prefix = slash ? parse_prefix(slash + 1, bytes * 8) : bytes * 8;
    if (out->prefix < 0)
        return HH_EINVAL;
    mask(out->addr, bytes, out->prefix);
    return HH_OK;
}

/* The client's address as (family, bytes), IPv4-mapped IPv6 as IPv4. */
static int client_bytes(const struct sockaddr *sa, unsigned char out[16])
{
    if (sa && sa->sa_family == AF_INET) {
        memcpy(out, &((const struct sockaddr_in *)sa)->sin_addr, 4);
        return AF_INET;
    }
    if (sa && sa->sa_family == AF_INET6) {
        const struct in6_addr *a6 = &((const struct sockaddr_in6 *)sa)->sin6_addr;

        if (IN6_IS_ADDR_V4MAPPED(a6)) {
            memcpy(out, a6->s6_addr + 12, 4);
            return AF_INET;
        }
        memcpy(out, a6->s6_addr, 16);
        return AF_INET6;
    }
    return AF_UNSPEC;
}

bool hh_api__net_allows(const struct hh_api__net *nets, size_t n, const struct sockaddr *sa)
{
    unsigned char addr[16];
    int family = client_bytes(sa, addr);

    for (size_t i = 0; i < n; i++) {
        unsigned char m[16];
        int bytes = nets[i].family == AF_INET ? 4 : 16;

        if (nets[i].family != family)
            continue;
        memcpy(m, addr, (size_t)bytes);
        mask(m, bytes, nets[i].prefix);
        if (!memcmp(m, nets[i].addr, (size_t)bytes))
            return true;
    }
    return false;
}

void hh_api__addr_text(const struct sockaddr *sa, char *out, size_t cap)
{
    unsigned char addr[16];
    int family = client_bytes(sa, addr);

    if (family == AF_UNSPEC || !inet_ntop(family, addr, out, (socklen_t)cap))
        snprintf(out, cap, "?");
}

/* ---- signing ---------------------------------------------------------- */

static void hex(const unsigned char *p, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";

    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[p[i] >> 4];
        out[2 * i + 1] = digits[p[i] & 15];
    }
    out[2 * n] = '\0';
}

int hh_api_sign(const struct hh_api_key *k, const char *ts, const char *nonce,
                const char *method, const char *target, const void *body, size_t len,
                char sig[65])
{
    unsigned char digest[SHA256_DIGEST_LENGTH], mac[EVP_MAX_MD_SIZE];
    char body_hex[2 * SHA256_DIGEST_LENGTH + 1];
    unsigned int maclen = 0;
    char *msg;
    int n;

    SHA256(len ? body : (const void *)"", len, digest);
    hex(digest, sizeof digest, body_hex);
    n = asprintf(&msg, "%s\n%s\n%s\n%s\n%s", ts, nonce, method, target, body_hex);
    if (n < 0)
        return HH_ENOMEM;
    if (!HMAC(EVP_sha256(), k->secret, (int)k->secret_len, (const unsigned char *)msg,
              (size_t)n, mac, &maclen) || maclen != SHA256_DIGEST_LENGTH) {
        free(msg);
        return HH_EINVAL;
    }
    free(msg);
    hex(mac, maclen, sig);
    OPENSSL_cleanse(mac, sizeof mac);
    return HH_OK;
}

/* ---- verification ----------------------------------------------------- */

static bool present(const char *s)
{
    return s && *s;
}

static bool nonce_ok(const char *s)
{
    size_t n = strlen(s);

    if (n < 16 || n > 64)
        return false;
    return strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-") == n;
}

/* X-HH-Timestamp as ms; false unless 1-15 digits. */
static bool parse_ts(const char *s, int64_t *out)
{
    size_t n = strlen(s);
    int64_t v = 0;

    if (n < 1 || n > 15 || strspn(s, "0123456789") != n)
        return false;
    for (; *s; s++)
        v = v * 10 + (*s - '0');
    *out = v;
    return true;
}

/* Constant-time check of the sent signature against the expected one. */
static bool signature_ok(const char *want, const char *got)
{
    char padded[64];
    size_t n = strnlen(got, sizeof padded + 1);

    memset(padded, 0, sizeof padded);
    memcpy(padded, got, n < sizeof padded ? n : sizeof padded);
    return (CRYPTO_memcmp(want, padded, sizeof padded) == 0) & (n == sizeof padded);
}

/* Steps 1-4; on success *ts_ms is the request's time. */
static int check_signature(struct hh_api *a, const struct hh_api__sigreq *s, int64_t now_ms,
                           int64_t *ts_ms)
{
    struct hh_api_key k;
    char want[65];
    int64_t window = (int64_t)a->cfg.window_s * 1000;
    bool good;

    if (!present(s->key) || !present(s->ts) || !present(s->nonce) || !present(s->sig) ||
        !nonce_ok(s->nonce))
        return HH_API_REF_MISSING_AUTH;
    hh_api__keys_sync(&a->keys);
    if (!hh_api__keys_get(&a->keys, s->key, &k))
        return HH_API_REF_UNKNOWN_KEY;
    if (!parse_ts(s->ts, ts_ms) || *ts_ms > now_ms + window || *ts_ms < now_ms - window) {
        OPENSSL_cleanse(&k, sizeof k);
        return HH_API_REF_STALE_TIMESTAMP;
    }
    good = hh_api_sign(&k, s->ts, s->nonce, s->method, s->target, s->body, s->body_len,
                       want) == HH_OK && signature_ok(want, s->sig);
    OPENSSL_cleanse(&k, sizeof k);
    return good ? -1 : HH_API_REF_BAD_SIGNATURE;
}

int hh_api__verify(struct hh_api *a, const struct hh_api__sigreq *s, int64_t now_ms,
                   char key_id[HH_API_KEY_ID_MAX + 1], struct hh_api__nonce *claim)
{
    int64_t ts = 0;
    int rc = check_signature(a, s, now_ms, &ts);

    if (rc >= 0)
        return rc;
    /* Kept until no request carrying it can pass the timestamp check. */
    rc = hh_api__nonces_claim(&a->nonces, s->nonce,
                              (ts > now_ms ? ts : now_ms) + (int64_t)a->cfg.window_s * 1000,
                              now_ms, claim);
    if (rc == HH_EEXIST)
        return HH_API_REF_REPLAYED_NONCE;
    if (rc != HH_OK)
        return HH_API__VERIFY_NOROOM;
    snprintf(key_id, HH_API_KEY_ID_MAX + 1, "%s", s->key);
    return HH_API__VERIFY_OK;
}

const char *hh_api_refusal_name(enum hh_api_refusal r)
{
    switch (r) {
#define HH__API_REF_NAME(name) case HH_API_REF_##name: return #name;
    HH_API_REFUSALS(HH__API_REF_NAME)
#undef HH__API_REF_NAME
    case HH_API_REF_COUNT:
        break;
    }
    return "UNKNOWN";
}
