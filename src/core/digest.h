/*
 * digest.h — SHA-256 (OpenSSL EVP) as lowercase hex: the one hash of the
 * engine, for the audit chain, checkpoint state hashes and the
 * configuration's fingerprint; and HMAC-SHA256 (RFC 2104), the one MAC,
 * for the keyed audit chain.
 *
 * Two ways in: hh_digest_hex() hashes one buffer; a struct hh_digest is a
 * reusable context (fetched once, then begin / update... / end per hash)
 * for a thread that hashes many records, such as the store's writer.  A
 * context made by hh_digest_init_keyed() computes HMAC-SHA256 with its key
 * through the same begin / update / end, so code that chains records is
 * written once for both.  A context belongs to one thread at a time.
 */
#ifndef HH_DIGEST_H
#define HH_DIGEST_H

#include <stddef.h>

#define HH_DIGEST_BYTES 32
#define HH_DIGEST_HEX (2 * HH_DIGEST_BYTES + 1)   /* 64 hex digits + NUL */

/* A reusable SHA-256 or HMAC-SHA256 context. */
struct hh_digest {
    void *md;                      /* EVP_MD * (fetched once) */
    void *ctx;                     /* EVP_MD_CTX * */
    void *mac;                     /* keyed: the HMAC context holding the key
                                      (OpenSSL's, wiped when freed); NULL:
                                      plain SHA-256 */
};

/* Fetch the algorithm and a context: HH_OK, or HH_ENOMEM (nothing to
 * free).  Free with hh_digest_free(). */
int hh_digest_init(struct hh_digest *h);

/* A keyed context: begin / update / end compute HMAC-SHA256 with
 * key[0..n), n >= 1 (a key longer than SHA-256's 64-byte block is hashed
 * first, as RFC 2104 says).  The key is copied into OpenSSL's context: the
 * caller may wipe its own copy at once.  HH_OK, HH_EINVAL (n == 0), or
 * HH_ENOMEM (nothing to free).  Free with hh_digest_free(). */
int hh_digest_init_keyed(struct hh_digest *h, const void *key, size_t n);

/* Release the context (a key is wiped); accepts NULL and a context
 * already freed. */
void hh_digest_free(struct hh_digest *h);

/* Start a hash or MAC (discarding any unfinished one): HH_OK or HH_ENOMEM. */
int hh_digest_begin(struct hh_digest *h);

/* Add data[0..n) to the hash begun (n may be 0, data then unused). */
void hh_digest_update(struct hh_digest *h, const void *data, size_t n);

/* Finish the hash into out as lowercase hex: HH_OK or HH_ENOMEM. */
int hh_digest_end(struct hh_digest *h, char out[HH_DIGEST_HEX]);

/* begin + update(data, n) + end on a context. */
int hh_digest_blob(struct hh_digest *h, const void *data, size_t n, char out[HH_DIGEST_HEX]);

/* The same as the 32 bytes of the hash, not hex. */
int hh_digest_raw(struct hh_digest *h, const void *data, size_t n,
                  unsigned char out[HH_DIGEST_BYTES]);

/* SHA-256 of data[0..n) in one call, without a context: HH_OK, or
 * HH_ENOMEM with out "" (OpenSSL refused). */
int hh_digest_hex(const void *data, size_t n, char out[HH_DIGEST_HEX]);

#endif
