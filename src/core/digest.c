/*
 * digest.c — SHA-256 over OpenSSL EVP, HMAC-SHA256 over OpenSSL's MAC
 * (contract in digest.h).
 *
 * Invariants: every hex digest this file writes is exactly 64 lowercase
 * digits and a NUL, or "" when OpenSSL failed (the caller gets HH_ENOMEM);
 * a context is keyed exactly when h->mac is set, and then begin / update /
 * end never touch h->ctx.  The key lives only inside OpenSSL's MAC context,
 * which re-starts from it at each begin and wipes it when freed.
 */
#include "core/digest.h"

#include "core/err.h"

#include <openssl/evp.h>
#include <stdbool.h>
#include <string.h>
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
#include <openssl/core_names.h>
#else
#include <limits.h>
#include <openssl/hmac.h>
#endif

static void to_hex(const unsigned char md[HH_DIGEST_BYTES], char out[HH_DIGEST_HEX])
{
    static const char hex[] = "0123456789abcdef";

    for (int i = 0; i < HH_DIGEST_BYTES; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 15];
    }
    out[2 * HH_DIGEST_BYTES] = '\0';
}

int hh_digest_init(struct hh_digest *h)
{
    memset(h, 0, sizeof *h);
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
    h->md = EVP_MD_fetch(NULL, "SHA256", NULL);
#else
    h->md = (void *)EVP_sha256();
#endif
    h->ctx = EVP_MD_CTX_new();
    if (!h->md || !h->ctx) {
        hh_digest_free(h);
        return HH_ENOMEM;
    }
    return HH_OK;
}

#if OPENSSL_VERSION_NUMBER >= 0x30000000L

/* HMAC-SHA256 through EVP_MAC: the key is set once; an init without a key
 * re-starts from it. */
static void *mac_new(const void *key, size_t n)
{
    EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    EVP_MAC_CTX *ctx = mac ? EVP_MAC_CTX_new(mac) : NULL;
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0),
        OSSL_PARAM_construct_end(),
    };

    EVP_MAC_free(mac);            /* the context keeps its own reference */
    if (ctx && EVP_MAC_init(ctx, key, n, params) != 1) {
        EVP_MAC_CTX_free(ctx);
        ctx = NULL;
    }
    return ctx;
}

static void mac_free(void *mac)
{
    EVP_MAC_CTX_free(mac);
}

static bool mac_begin(void *mac)
{
    return EVP_MAC_init(mac, NULL, 0, NULL) == 1;
}

static void mac_update(void *mac, const void *data, size_t n)
{
    EVP_MAC_update(mac, data, n);
}

static bool mac_end(void *mac, unsigned char md[HH_DIGEST_BYTES])
{
    size_t n = 0;

    return EVP_MAC_final(mac, md, &n, HH_DIGEST_BYTES) == 1 && n == HH_DIGEST_BYTES;
}

#else

/* HMAC-SHA256 through HMAC_CTX (OpenSSL 1.1): an init without a key
 * re-starts from the one set first. */
static void *mac_new(const void *key, size_t n)
{
    HMAC_CTX *ctx = n <= (size_t)INT_MAX ? HMAC_CTX_new() : NULL;

    if (ctx && HMAC_Init_ex(ctx, key, (int)n, EVP_sha256(), NULL) != 1) {
        HMAC_CTX_free(ctx);
        ctx = NULL;
    }
    return ctx;
}

static void mac_free(void *mac)
{
    HMAC_CTX_free(mac);
}

static bool mac_begin(void *mac)
{
    return HMAC_Init_ex(mac, NULL, 0, NULL, NULL) == 1;
}

static void mac_update(void *mac, const void *data, size_t n)
{
    HMAC_Update(mac, data, n);
}

static bool mac_end(void *mac, unsigned char md[HH_DIGEST_BYTES])
{
    unsigned int n = 0;

    return HMAC_Final(mac, md, &n) == 1 && n == HH_DIGEST_BYTES;
}

#endif

int hh_digest_init_keyed(struct hh_digest *h, const void *key, size_t n)
{
    memset(h, 0, sizeof *h);
    if (!key || n == 0)
        return HH_EINVAL;
    h->mac = mac_new(key, n);
    return h->mac ? HH_OK : HH_ENOMEM;
}

void hh_digest_free(struct hh_digest *h)
{
    if (!h)
        return;
    EVP_MD_CTX_free(h->ctx);
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
    EVP_MD_free(h->md);
#endif
    if (h->mac)
        mac_free(h->mac);
    h->ctx = h->md = h->mac = NULL;
}

int hh_digest_begin(struct hh_digest *h)
{
    if (h->mac)
        return mac_begin(h->mac) ? HH_OK : HH_ENOMEM;
    return EVP_DigestInit_ex(h->ctx, h->md, NULL) == 1 ? HH_OK : HH_ENOMEM;
}

void hh_digest_update(struct hh_digest *h, const void *data, size_t n)
{
    if (!n)
        return;
    if (h->mac)
        mac_update(h->mac, data, n);
    else
        EVP_DigestUpdate(h->ctx, data, n);
}

/* Finish the hash begun into md (EVP_MAX_MD_SIZE bytes). */
static int end_raw(struct hh_digest *h, unsigned char *md)
{
    unsigned int n = 0;

    if (h->mac)
        return mac_end(h->mac, md) ? HH_OK : HH_ENOMEM;
    return EVP_DigestFinal_ex(h->ctx, md, &n) == 1 && n == HH_DIGEST_BYTES ? HH_OK : HH_ENOMEM;
}

int hh_digest_end(struct hh_digest *h, char out[HH_DIGEST_HEX])
{
    unsigned char md[EVP_MAX_MD_SIZE];

    out[0] = '\0';
    if (end_raw(h, md))
        return HH_ENOMEM;
    to_hex(md, out);
    return HH_OK;
}

int hh_digest_raw(struct hh_digest *h, const void *data, size_t n,
                  unsigned char out[HH_DIGEST_BYTES])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    int rc = hh_digest_begin(h);

    if (rc)
        return rc;
    hh_digest_update(h, data, n);
    if ((rc = end_raw(h, md)) == HH_OK)
        memcpy(out, md, HH_DIGEST_BYTES);
    return rc;
}

int hh_digest_blob(struct hh_digest *h, const void *data, size_t n, char out[HH_DIGEST_HEX])
{
    int rc = hh_digest_begin(h);

    if (rc) {
        out[0] = '\0';
        return rc;
    }
    hh_digest_update(h, data, n);
    return hh_digest_end(h, out);
}

int hh_digest_hex(const void *data, size_t n, char out[HH_DIGEST_HEX])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;

    out[0] = '\0';
    if (EVP_Digest(n ? data : "", n, md, &len, EVP_sha256(), NULL) != 1 ||
        len != HH_DIGEST_BYTES)
        return HH_ENOMEM;
    to_hex(md, out);
    return HH_OK;
}
