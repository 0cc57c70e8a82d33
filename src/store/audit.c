/*
 * audit.c — the audit hash chain: SHA-256 (core/digest.h) over a canonical,
 * length-prefixed encoding of each record, and the walk that re-verifies
 * a stored chain.
 *
 * The encoding (docs/STORE.md, "Audit hash") is binary and unambiguous:
 *
 *   "HHAUDIT1"                      8 bytes, domain and version tag
 *   seq                             u64, big-endian
 *   at                              i64, big-endian (two's complement)
 *   len(kind)        kind           u32 big-endian, then the bytes
 *   len(corr)        corr           (correlation id, "" when none)
 *   len(payload)     payload        (JSON text, as stored)
 *   prev_hash                       32 raw bytes (hex-decoded)
 *
 * hash = lowercase hex of SHA-256 of that byte string; the first record's
 * prev_hash is 64 zeros.  Every field is fixed-width or length-prefixed,
 * so no two distinct records encode to the same bytes.
 */
#include "store/store_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char hh_store_genesis_hash[HH_STORE_HASH_HEX] =
    "0000000000000000000000000000000000000000000000000000000000000000";

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;   /* upper case is not canonical: refused */
}

/* Decode 64 lowercase hex chars into 32 bytes; false when malformed. */
static bool from_hex32(const char *hex, unsigned char out[32])
{
    if (!hex || strlen(hex) != 64)
        return false;
    for (int i = 0; i < 32; i++) {
        int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);

        if (hi < 0 || lo < 0)
            return false;
        out[i] = (unsigned char)(hi << 4 | lo);
    }
    return true;
}

static void be64(unsigned char *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--) {
        p[i] = (unsigned char)v;
        v >>= 8;
    }
}

static void be32(unsigned char *p, uint32_t v)
{
    for (int i = 3; i >= 0; i--) {
        p[i] = (unsigned char)v;
        v >>= 8;
    }
}

/* Length-prefixed field. */
static void field(struct hh_digest *h, const char *s, size_t n)
{
    unsigned char len[4];

    be32(len, (uint32_t)n);
    hh_digest_update(h, len, 4);
    hh_digest_update(h, s, n);
}

int hh_store__hash_audit(struct hh_digest *h, uint64_t seq, hh_time_t at,
                         const char *kind, const char *corr, size_t corr_len,
                         const char *payload, size_t payload_len, const char *prev_hex,
                         char out[HH_STORE_HASH_HEX])
{
    unsigned char fixed[16], prev[32];
    int rc;

    if (!from_hex32(prev_hex, prev))
        return HH_EINVAL;
    if (corr_len > UINT32_MAX || payload_len > UINT32_MAX)
        return HH_ERANGE;
    rc = hh_digest_begin(h);
    if (rc)
        return rc;
    be64(fixed, seq);
    be64(fixed + 8, (uint64_t)at);
    hh_digest_update(h, "HHAUDIT1", 8);
    hh_digest_update(h, fixed, 16);
    field(h, kind, strlen(kind));
    field(h, corr ? corr : "", corr ? corr_len : 0);
    field(h, payload ? payload : "", payload ? payload_len : 0);
    hh_digest_update(h, prev, 32);
    return hh_digest_end(h, out);
}

int hh_store_audit_hash(uint64_t seq, hh_time_t at, const char *kind, const char *corr,
                        size_t corr_len, const char *payload, size_t payload_len,
                        const char *prev_hex, char out[HH_STORE_HASH_HEX])
{
    struct hh_digest h;
    int rc = hh_digest_init(&h);

    if (rc)
        return rc;
    rc = hh_store__hash_audit(&h, seq, at, kind, corr, corr_len, payload, payload_len,
                              prev_hex, out);
    hh_digest_free(&h);
    return rc;
}

/* ---- verification walk --------------------------------------------------------- */

static void bad(struct hh_store_verify *v, uint64_t seq, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void bad(struct hh_store_verify *v, uint64_t seq, const char *fmt, ...)
{
    va_list ap;

    v->ok = false;
    v->bad_seq = seq;
    va_start(ap, fmt);
    vsnprintf(v->why, sizeof v->why, fmt, ap);
    va_end(ap);
}

/* Text of column i, "" for NULL. */
static const char *col_text(sqlite3_stmt *st, int i, size_t *len)
{
    const char *s = (const char *)sqlite3_column_text(st, i);

    *len = s ? (size_t)sqlite3_column_bytes(st, i) : 0;
    return s ? s : "";
}

/* Check one row against the walk so far; false (v filled) when bad. */
static bool check_row(struct hh_digest *h, sqlite3_stmt *st, struct hh_store_verify *v,
                      uint64_t expect, const char *prev)
{
    uint64_t seq = (uint64_t)sqlite3_column_int64(st, 0);
    hh_time_t at = sqlite3_column_int64(st, 1);
    size_t klen, clen, plen, n;
    const char *kind = col_text(st, 2, &klen), *corr = col_text(st, 3, &clen);
    const char *payload = col_text(st, 4, &plen), *prev_hash = col_text(st, 5, &n);
    const char *hash = col_text(st, 6, &n);
    char calc[HH_STORE_HASH_HEX];

    if (seq != expect) {
        if (expect == 1)
            bad(v, 1, "record missing: the first record has seq %llu, expected 1",
                (unsigned long long)seq);
        else
            bad(v, expect, "record missing: seq %llu is followed by seq %llu",
                (unsigned long long)(expect - 1), (unsigned long long)seq);
        return false;
    }
    if (sqlite3_column_type(st, 1) != SQLITE_INTEGER) {
        bad(v, seq, "field at is not an integer");
        return false;
    }
    if (strcmp(prev_hash, prev) != 0) {
        bad(v, seq, "broken link: prev_hash %.16s... is not the hash of the record before "
            "(%.16s...)", prev_hash, prev);
        return false;
    }
    if (hh_store__hash_audit(h, seq, at, kind, corr, clen, payload, plen, prev, calc) ||
        strcmp(calc, hash) != 0) {
        bad(v, seq, "hash mismatch: stored %.16s..., computed %.16s... (record altered)", hash,
            calc);
        return false;
    }
    return true;
}

/* Compare the end of the walk with the head stored in audit_head (schema
 * v3+); the chain alone cannot see rows cut off its tail. */
static int check_head(sqlite3 *db, struct hh_store_verify *v, struct hh_diag *d)
{
    sqlite3_stmt *st = NULL;
    uint64_t hseq;
    char hhash[HH_STORE_HASH_HEX];
    int rc;

    rc = sqlite3_prepare_v2(db, "SELECT seq, hash FROM audit_head WHERE id = 1", -1, &st,
                            NULL);
    if (rc != SQLITE_OK) {
        sqlite3_finalize(st);
        if (rc != SQLITE_ERROR)
            return hh_store__sqlerr(db, rc, NULL, "reading audit_head", d);
        bad(v, v->head_seq + 1, "the audit_head table is missing");
        return HH_OK;
    }
    rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        sqlite3_finalize(st);
        if (rc != SQLITE_DONE)
            return hh_store__sqlerr(db, rc, NULL, "reading audit_head", d);
        bad(v, v->head_seq + 1, "the audit head record is missing");
        return HH_OK;
    }
    hseq = (uint64_t)sqlite3_column_int64(st, 0);
    snprintf(hhash, sizeof hhash, "%s",
             sqlite3_column_text(st, 1) ? (const char *)sqlite3_column_text(st, 1) : "");
    sqlite3_finalize(st);
    if (hseq > v->head_seq)
        bad(v, v->head_seq + 1,
            "record missing: records %llu..%llu cut off the tail (the audit head says seq "
            "%llu)", (unsigned long long)(v->head_seq + 1), (unsigned long long)hseq,
            (unsigned long long)hseq);
    else if (hseq < v->head_seq)
        bad(v, hseq + 1, "record beyond the audit head (seq %llu): appended outside the "
            "writer", (unsigned long long)hseq);
    else if (strcmp(hhash, v->head_hash) != 0)
        bad(v, hseq, "hash differs from the audit head's (%.16s...)", hhash);
    return HH_OK;
}

int hh_store__audit_walk(sqlite3 *db, struct hh_digest *h, int version,
                         struct hh_store_verify *v, struct hh_diag *d)
{
    static const char sql[] = "SELECT seq, at, kind, correlation_id, payload, prev_hash, "
                              "hash FROM audit ORDER BY seq";
    sqlite3_stmt *st = NULL;
    char prev[HH_STORE_HASH_HEX];
    bool own_txn = sqlite3_get_autocommit(db);
    int rc;

    memset(v, 0, sizeof *v);
    v->ok = true;
    memcpy(prev, hh_store_genesis_hash, sizeof prev);
    if (own_txn && (rc = hh_store__exec(db, NULL, "BEGIN", d)) != HH_OK)
        return rc;
    rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    if (rc != SQLITE_OK) {
        rc = hh_store__sqlerr(db, rc, NULL, "reading the audit trail", d);
        goto out;
    }
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (!check_row(h, st, v, v->count + 1, prev))
            break;
        memcpy(prev, sqlite3_column_text(st, 6), HH_STORE_HASH_HEX - 1);
        v->count++;
        v->head_seq = v->count;
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        rc = hh_store__sqlerr(db, rc, NULL, "reading the audit trail", d);
        goto out;
    }
    memcpy(v->head_hash, prev, sizeof prev);
    rc = v->ok && version >= 3 ? check_head(db, v, d) : HH_OK;
out:
    sqlite3_finalize(st);
    if (own_txn)
        sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    return rc;
}
