/*
 * digest.c — SHA-256 over OpenSSL EVP (contract in digest.h).
 *
 * Invariant: every hex digest this file writes is exactly 64 lowercase
 * digits and a NUL, or "" when OpenSSL failed (the caller gets HH_ENOMEM).
 */
#include "core/digest.h"

#include "core/err.h"

#include <openssl/evp.h>
#include <string.h>

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

void hh_digest_free(struct hh_digest *h)
{
    if (!h)
        return;
    EVP_MD_CTX_free(h->ctx);
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
    EVP_MD_free(h->md);
#endif
    h->ctx = h->md = NULL;
}

int hh_digest_begin(struct hh_digest *h)
{
    return EVP_DigestInit_ex(h->ctx, h->md, NULL) == 1 ? HH_OK : HH_ENOMEM;
}

void hh_digest_update(struct hh_digest *h, const void *data, size_t n)
{
    if (n)
        EVP_DigestUpdate(h->ctx, data, n);
}

int hh_digest_end(struct hh_digest *h, char out[HH_DIGEST_HEX])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;

    out[0] = '\0';
    if (EVP_DigestFinal_ex(h->ctx, md, &n) != 1 || n != HH_DIGEST_BYTES)
        return HH_ENOMEM;
    to_hex(md, out);
    return HH_OK;
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
