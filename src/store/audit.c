/*
 * audit.c — the audit hash chain: the link of each record over a canonical,
 * length-prefixed encoding — SHA-256 (unkeyed) or HMAC-SHA256 with the
 * chain's key (keyed), both from core/digest.h — the audit keys, and the
 * walk that re-verifies a stored chain.  The chain is computed here and
 * nowhere else: the writer (sqlite.c) and the walk call the same function.
 *
 * The encoding (docs/STORE.md, "Audit hash" and "Keyed chain") is binary
 * and unambiguous:
 *
 *   tag                             8 bytes: "HHAUDIT1" unkeyed, "HHAUDITK" keyed
 *   seq                             u64, big-endian
 *   at                              i64, big-endian (two's complement)
 *   len(kind)        kind           u32 big-endian, then the bytes
 *   len(corr)        corr           (correlation id, "" when none)
 *   len(payload)     payload        (JSON text, as stored)
 *   len(key_id)      key_id         keyed only: the key's id (8 hex digits)
 *   prev_hash                       32 raw bytes (hex-decoded)
 *
 * hash = lowercase hex of SHA-256 (unkeyed) or HMAC-SHA256(key) (keyed) of
 * that byte string; the first record's prev_hash is 64 zeros.  Every field
 * is fixed-width or length-prefixed, so no two distinct records encode to
 * the same bytes, and the tags keep the two kinds of link apart.
 *
 * Keyed chains.  A KEY_ROTATED record starts a key: it is keyed with the
 * new key, its key_id column names it, and its payload is exactly
 * {"key_id":NEW,"previous_key_id":OLD|null}.  Every other record carries
 * the key id of the last rotation before it (NULL before the first), so a
 * walk knows at each record which key must have made it: an unkeyed
 * record after a rotation (a downgrade), a key id no rotation named, or a
 * rotation that does not follow the chain's key is a broken chain.
 * Rewriting records needs their key; rewriting the whole chain unkeyed
 * leaves it ending unkeyed, which a walk given keys refuses.
 */
#include "store/store_int.h"

#include "core/secret.h"

#include <openssl/crypto.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
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

int hh_store__hash_audit(struct hh_digest *h, const struct hh_store__arec *a,
                         char out[HH_STORE_HASH_HEX])
{
    bool keyed = a->key_id && *a->key_id;
    unsigned char fixed[16], prev[32];
    int rc;

    if (!from_hex32(a->prev, prev))
        return HH_EINVAL;
    if (a->corr_len > UINT32_MAX || a->payload_len > UINT32_MAX)
        return HH_ERANGE;
    rc = hh_digest_begin(h);
    if (rc)
        return rc;
    be64(fixed, a->seq);
    be64(fixed + 8, (uint64_t)a->at);
    hh_digest_update(h, keyed ? "HHAUDITK" : "HHAUDIT1", 8);
    hh_digest_update(h, fixed, 16);
    field(h, a->kind, strlen(a->kind));
    field(h, a->corr ? a->corr : "", a->corr ? a->corr_len : 0);
    field(h, a->payload ? a->payload : "", a->payload ? a->payload_len : 0);
    if (keyed)
        field(h, a->key_id, strlen(a->key_id));
    hh_digest_update(h, prev, 32);
    return hh_digest_end(h, out);
}

/* One record's link through a fresh context (keyed with k when given). */
static int link_once(const struct hh_store_audit_key *k, const struct hh_store__arec *a,
                     char out[HH_STORE_HASH_HEX])
{
    struct hh_digest h;
    int rc = k ? hh_digest_init_keyed(&h, k->key, k->len) : hh_digest_init(&h);

    if (rc)
        return rc;
    rc = hh_store__hash_audit(&h, a, out);
    hh_digest_free(&h);
    return rc;
}

int hh_store_audit_hash(uint64_t seq, hh_time_t at, const char *kind, const char *corr,
                        size_t corr_len, const char *payload, size_t payload_len,
                        const char *prev_hex, char out[HH_STORE_HASH_HEX])
{
    const struct hh_store__arec a = {
        .seq = seq, .at = at, .kind = kind, .corr = corr, .corr_len = corr_len,
        .payload = payload, .payload_len = payload_len, .key_id = NULL, .prev = prev_hex,
    };

    return link_once(NULL, &a, out);
}

int hh_store_audit_mac(const struct hh_store_audit_key *k, uint64_t seq, hh_time_t at,
                       const char *kind, const char *corr, size_t corr_len,
                       const char *payload, size_t payload_len, const char *prev_hex,
                       char out[HH_STORE_HASH_HEX])
{
    const struct hh_store__arec a = {
        .seq = seq, .at = at, .kind = kind, .corr = corr, .corr_len = corr_len,
        .payload = payload, .payload_len = payload_len, .key_id = k->id, .prev = prev_hex,
    };

    return link_once(k, &a, out);
}

void hh_store__rotation_payload(char *buf, size_t cap, const char *id, const char *prev_id)
{
    if (prev_id && *prev_id)
        snprintf(buf, cap, "{\"key_id\":\"%s\",\"previous_key_id\":\"%s\"}", id, prev_id);
    else
        snprintf(buf, cap, "{\"key_id\":\"%s\",\"previous_key_id\":null}", id);
}

/* ---- keys ------------------------------------------------------------------------ */

int hh_store_audit_key_set(struct hh_store_audit_key *k, const void *bytes, size_t n)
{
    char sha[HH_DIGEST_HEX];

    memset(k, 0, sizeof *k);
    if (!bytes || n < HH_STORE_KEY_MIN || n > HH_STORE_KEY_MAX)
        return HH_EINVAL;
    if (hh_digest_hex(bytes, n, sha))
        return HH_ENOMEM;
    memcpy(k->key, bytes, n);
    k->len = n;
    memcpy(k->id, sha, HH_STORE_KEY_ID_HEX - 1);
    return HH_OK;
}

int hh_store_audit_key_read(const char *path, struct hh_store_audit_key *k,
                            struct hh_diag *d)
{
    unsigned char buf[HH_STORE_KEY_MAX];
    size_t n;
    int rc;

    memset(k, 0, sizeof *k);
    rc = hh_secret_read_hex(path, "audit key file", buf, HH_STORE_KEY_MIN, HH_STORE_KEY_MAX,
                            &n, d);
    if (!rc && (rc = hh_store_audit_key_set(k, buf, n)) != HH_OK)
        rc = hh_diag_set(d, rc, "audit key file %s: cannot derive the key id", path);
    OPENSSL_cleanse(buf, sizeof buf);
    return rc;
}

void hh_store_audit_key_wipe(struct hh_store_audit_key *k)
{
    if (k)
        OPENSSL_cleanse(k, sizeof *k);
}

/* ---- verification walk --------------------------------------------------------- */

/* What the walk knows so far. */
struct walk {
    struct hh_digest *plain;       /* SHA-256 */
    const struct hh_store_audit_key *keys;
    struct hh_digest *macs;        /* macs[i] keyed with keys[i] */
    size_t nkeys;
    struct hh_store_verify *v;
    char prev[HH_STORE_HASH_HEX];  /* hash of the last good record */
    char key[HH_STORE_KEY_ID_HEX]; /* the chain's key id so far ("" unkeyed) */
};

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

/* seq follows the last good record. */
static bool check_seq(struct walk *w, uint64_t seq)
{
    uint64_t expect = w->v->count + 1;

    if (seq == expect)
        return true;
    if (expect == 1)
        bad(w->v, 1, "record missing: the first record has seq %llu, expected 1",
            (unsigned long long)seq);
    else
        bad(w->v, expect, "record missing: seq %llu is followed by seq %llu",
            (unsigned long long)(expect - 1), (unsigned long long)seq);
    return false;
}

/* 8 lowercase hex digits. */
static bool key_id_ok(const char *id)
{
    return strlen(id) == HH_STORE_KEY_ID_HEX - 1 &&
           strspn(id, "0123456789abcdef") == HH_STORE_KEY_ID_HEX - 1;
}

/* A KEY_ROTATED record: keyed with a well-formed id, and its payload says
 * exactly which key follows which. */
static bool check_rotation(struct walk *w, const struct hh_store__arec *a)
{
    char want[96];

    if (!key_id_ok(a->key_id)) {
        bad(w->v, a->seq, "key rotation without a valid key id ('%.16s')", a->key_id);
        return false;
    }
    hh_store__rotation_payload(want, sizeof want, a->key_id, w->key);
    if (strcmp(a->payload, want) != 0) {
        bad(w->v, a->seq, "key rotation to %s does not follow the chain's key (%s): "
            "payload %.120s", a->key_id, *w->key ? w->key : "unkeyed", a->payload);
        return false;
    }
    return true;
}

/* The record's key id is the one the chain is at. */
static bool check_key(struct walk *w, const struct hh_store__arec *a)
{
    if (!strcmp(a->kind, "KEY_ROTATED"))
        return check_rotation(w, a);
    if (!strcmp(a->key_id, w->key))
        return true;
    if (!*a->key_id)
        bad(w->v, a->seq, "unkeyed record after the chain was keyed (key id %s): written "
            "without the key", w->key);
    else if (!*w->key)
        bad(w->v, a->seq, "record keyed with %s while the chain is unkeyed (no rotation "
            "started a key)", a->key_id);
    else
        bad(w->v, a->seq, "record keyed with %s while the chain's key is %s", a->key_id,
            w->key);
    return false;
}

/* The context that checks a record keyed with `id`, NULL when not given. */
static struct hh_digest *mac_for(struct walk *w, const char *id)
{
    for (size_t i = 0; i < w->nkeys; i++)
        if (!strcmp(w->keys[i].id, id))
            return &w->macs[i];
    return NULL;
}

/* The stored hash is the record's link (a keyed record whose key is not
 * given is counted unverified instead). */
static bool check_hash(struct walk *w, const struct hh_store__arec *a, const char *hash)
{
    struct hh_digest *h = *a->key_id ? mac_for(w, a->key_id) : w->plain;
    char calc[HH_STORE_HASH_HEX];

    if (!h) {
        unsigned char raw[32];

        if (!from_hex32(hash, raw)) {
            bad(w->v, a->seq, "malformed hash '%.16s...'", hash);
            return false;
        }
        if (!w->v->unverified++) {
            w->v->first_unverified = a->seq;
            snprintf(w->v->unverified_key, sizeof w->v->unverified_key, "%s", a->key_id);
        }
        return true;
    }
    if (hh_store__hash_audit(h, a, calc) || strcmp(calc, hash) != 0) {
        bad(w->v, a->seq, "%s mismatch: stored %.16s..., computed %.16s... (record altered)",
            *a->key_id ? "MAC" : "hash", hash, calc);
        return false;
    }
    w->v->macs += *a->key_id != '\0';
    return true;
}

/* Check one row against the walk so far; false (v filled) when bad. */
static bool check_row(struct walk *w, sqlite3_stmt *st)
{
    struct hh_store__arec a;
    const char *prev_hash, *hash;
    size_t n;

    a.seq = (uint64_t)sqlite3_column_int64(st, 0);
    a.at = sqlite3_column_int64(st, 1);
    a.kind = col_text(st, 2, &n);
    a.corr = col_text(st, 3, &a.corr_len);
    a.payload = col_text(st, 4, &a.payload_len);
    a.key_id = col_text(st, 7, &n);
    a.prev = w->prev;
    prev_hash = col_text(st, 5, &n);
    hash = col_text(st, 6, &n);

    if (!check_seq(w, a.seq))
        return false;
    if (sqlite3_column_type(st, 1) != SQLITE_INTEGER) {
        bad(w->v, a.seq, "field at is not an integer");
        return false;
    }
    if (strcmp(prev_hash, w->prev) != 0) {
        bad(w->v, a.seq, "broken link: prev_hash %.16s... is not the hash of the record "
            "before (%.16s...)", prev_hash, w->prev);
        return false;
    }
    if (!check_key(w, &a) || !check_hash(w, &a, hash))
        return false;
    if (!strcmp(a.kind, "KEY_ROTATED")) {
        w->v->keyed_since = w->v->keyed_since ? w->v->keyed_since : a.seq;
        w->v->rotations++;
        snprintf(w->key, sizeof w->key, "%s", a.key_id);
    }
    snprintf(w->prev, sizeof w->prev, "%s", hash);
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

/* Given keys, the chain must end keyed: whoever rewrote it without a key
 * could only end it unkeyed. */
static void check_ends_keyed(const struct walk *w)
{
    if (!w->nkeys || *w->key)
        return;
    if (!w->v->count)
        bad(w->v, 1, "the audit trail is empty, but keys were given");
    else
        bad(w->v, w->v->head_seq, "the audit trail ends unkeyed (seq %llu), but keys were "
            "given: it was never keyed here, or it was rewritten without the key",
            (unsigned long long)w->v->head_seq);
}

/* Keyed contexts for keys[0..n) into *out (NULL when n == 0). */
static int macs_new(const struct hh_store_audit_key *keys, size_t n, struct hh_digest **out,
                    struct hh_diag *d)
{
    *out = n ? calloc(n, sizeof **out) : NULL;
    if (n && !*out)
        return hh_diag_set(d, HH_ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++)
        if (hh_digest_init_keyed(&(*out)[i], keys[i].key, keys[i].len)) {
            for (size_t j = 0; j < i; j++)
                hh_digest_free(&(*out)[j]);
            free(*out);
            *out = NULL;
            return hh_diag_set(d, HH_ENOMEM, "cannot set up HMAC-SHA256 (OpenSSL)");
        }
    return HH_OK;
}

static void macs_free(struct hh_digest *m, size_t n)
{
    for (size_t i = 0; m && i < n; i++)
        hh_digest_free(&m[i]);
    free(m);
}

/* The rows in seq order, each checked; stops at the first bad one. */
static int walk_rows(sqlite3 *db, int version, struct walk *w, struct hh_diag *d)
{
    const char *sql = version >= 4 ? "SELECT seq, at, kind, correlation_id, payload, "
                                     "prev_hash, hash, key_id FROM audit ORDER BY seq"
                                   : "SELECT seq, at, kind, correlation_id, payload, "
                                     "prev_hash, hash, NULL FROM audit ORDER BY seq";
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);

    if (rc != SQLITE_OK) {
        sqlite3_finalize(st);
        return hh_store__sqlerr(db, rc, NULL, "reading the audit trail", d);
    }
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && check_row(w, st))
        w->v->head_seq = ++w->v->count;
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        rc = hh_store__sqlerr(db, rc, NULL, "reading the audit trail", d);
    else
        rc = HH_OK;
    sqlite3_finalize(st);
    return rc;
}

int hh_store__audit_walk(sqlite3 *db, struct hh_digest *h, int version,
                         const struct hh_store_audit_key *keys, size_t nkeys,
                         struct hh_store_verify *v, struct hh_diag *d)
{
    struct walk w = { .plain = h, .keys = keys, .nkeys = nkeys, .v = v };
    bool own_txn = sqlite3_get_autocommit(db);
    int rc;

    memset(v, 0, sizeof *v);
    v->ok = true;
    memcpy(w.prev, hh_store_genesis_hash, sizeof w.prev);
    rc = macs_new(keys, nkeys, &w.macs, d);
    if (rc)
        return rc;
    if (own_txn && (rc = hh_store__exec(db, NULL, "BEGIN", d)) != HH_OK)
        goto out;
    rc = walk_rows(db, version, &w, d);
    if (rc)
        goto out_txn;
    memcpy(v->head_hash, w.prev, sizeof w.prev);
    snprintf(v->head_key, sizeof v->head_key, "%s", w.key);
    if (v->ok && version >= 3)
        rc = check_head(db, v, d);
    if (!rc && v->ok)
        check_ends_keyed(&w);
out_txn:
    if (own_txn)
        sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
out:
    macs_free(w.macs, nkeys);
    return rc;
}
