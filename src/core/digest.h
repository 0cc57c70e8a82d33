/*
 * digest.h — SHA-256 (OpenSSL EVP) as lowercase hex: the one hash of the
 * engine, for the audit chain, checkpoint state hashes and the
 * configuration's fingerprint.
 *
 * Two ways in: hh_digest_hex() hashes one buffer; a struct hh_digest is a
 * reusable context (fetched once, then begin / update... / end per hash)
 * for a thread that hashes many records, such as the store's writer.  A
 * context belongs to one thread at a time.
 */
#ifndef HH_DIGEST_H
#define HH_DIGEST_H

#include <stddef.h>

#define HH_DIGEST_BYTES 32
#define HH_DIGEST_HEX (2 * HH_DIGEST_BYTES + 1)   /* 64 hex digits + NUL */

/* A reusable SHA-256 context. */
struct hh_digest {
    void *md;                      /* EVP_MD * (fetched once) */
    void *ctx;                     /* EVP_MD_CTX * */
};

/* Fetch the algorithm and a context: HH_OK, or HH_ENOMEM (nothing to
 * free).  Free with hh_digest_free(). */
int hh_digest_init(struct hh_digest *h);

/* Release the context; accepts NULL and a context already freed. */
void hh_digest_free(struct hh_digest *h);

/* Start a hash (discarding any unfinished one): HH_OK or HH_ENOMEM. */
int hh_digest_begin(struct hh_digest *h);

/* Add data[0..n) to the hash begun (n may be 0, data then unused). */
void hh_digest_update(struct hh_digest *h, const void *data, size_t n);

/* Finish the hash into out as lowercase hex: HH_OK or HH_ENOMEM. */
int hh_digest_end(struct hh_digest *h, char out[HH_DIGEST_HEX]);

/* begin + update(data, n) + end on a context. */
int hh_digest_blob(struct hh_digest *h, const void *data, size_t n, char out[HH_DIGEST_HEX]);

/* SHA-256 of data[0..n) in one call, without a context: HH_OK, or
 * HH_ENOMEM with out "" (OpenSSL refused). */
int hh_digest_hex(const void *data, size_t n, char out[HH_DIGEST_HEX]);

#endif
