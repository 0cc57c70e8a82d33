/*
 * ckpt.c — checkpoints stored chunk by chunk.
 *
 * A checkpoint is the engine's snapshot (hh_tm_snapshot_into) cut at the
 * points the snapshot marks.  Each chunk is named by its SHA-256; the
 * store keeps a chunk once (HH_STORE_CHUNK records) and the checkpoint row
 * holds the manifest, the digests in order.  The state hash is the SHA-256
 * of the digests' concatenation (hh_journal_state_hash).
 *
 * What is not redone: a chunk whose bytes equal a chunk of the last
 * checkpoint (found by a fast hash of its bytes, confirmed byte for byte)
 * takes that chunk's digest without hashing, and a chunk the last
 * checkpoint named is not submitted again (the store deletes a chunk only
 * when the checkpoint after it no longer names it).  A step that adds one
 * waiting trade to thousands hashes and writes a few chunks, not the
 * whole state: the per-step cost left is copying and comparing bytes.
 *
 * Invariants: prev is the last checkpoint submitted (after a restore: the
 * restored one's digests, without bytes: len 0); by_h64 and by_sha index
 * prev's chunks (index + 1).  The records of a checkpoint point into cur's
 * buffers (then prev's, after the swap), untouched until the next
 * checkpoint, which is taken after that group was submitted (the store's
 * queue copies what it is given).
 */
#include "journal/journal_int.h"

#include "core/grow.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#define MAGIC_LEN (sizeof HH_STORE_MANIFEST_MAGIC - 1)

/* A hash map key (never 0 or UINT64_MAX, which the map reserves). */
static uint64_t map_key(uint64_t h)
{
    return h == 0 || h == UINT64_MAX ? 1 : h;
}

/* A fast, non-cryptographic hash of b[0..n): finds a chunk of the last
 * checkpoint that may hold the same bytes (memcmp decides). */
static uint64_t fast_hash(const unsigned char *b, size_t n)
{
    uint64_t h = 0x9e3779b97f4a7c15u ^ n, v;
    size_t i = 0;

    for (; i + 8 <= n; i += 8) {
        memcpy(&v, b + i, 8);
        h = (h ^ v) * 0xff51afd7ed558ccdu;
        h ^= h >> 32;
    }
    for (; i < n; i++)
        h = (h ^ b[i]) * 0x100000001b3u;
    return map_key(h);
}

static uint64_t sha_key(const unsigned char *sha)
{
    uint64_t v;

    memcpy(&v, sha, 8);
    return map_key(v);
}

/* The chunk of prev named by map m under key, or NULL. */
static const struct ckpt_chunk *prev_chunk(const struct ckpt *k, const struct hh_u64map *m,
                                           uint64_t key)
{
    uint64_t j;

    return hh_u64map_get(m, key, &j) ? &k->prev.ch[j - 1] : NULL;
}

static bool same_bytes(const struct ckpt *k, const struct ckpt_chunk *y,
                       const unsigned char *b, size_t len)
{
    return y->len == len && !memcmp(k->prev.w.p + y->off, b, len);
}

/* Chunk i's digest: the last checkpoint's for the same bytes, else
 * SHA-256.  The last checkpoint's chunk i + *shift is tried first (chunks
 * keep their order: an object added or removed shifts the rest by one),
 * then the one the fast hash finds, which sets the shift for the next. */
static int name_chunk(struct ckpt *k, const unsigned char *base, size_t i, ptrdiff_t *shift)
{
    struct ckpt_chunk *x = &k->cur.ch[i];
    const unsigned char *b = base + x->off;
    const struct ckpt_chunk *y;
    ptrdiff_t j = (ptrdiff_t)i + *shift;

    if (j >= 0 && (size_t)j < k->prev.n && same_bytes(k, &k->prev.ch[j], b, x->len)) {
        y = &k->prev.ch[j];
        x->h64 = y->h64;
    } else {
        x->h64 = fast_hash(b, x->len);
        y = prev_chunk(k, &k->by_h64, x->h64);
        if (!y || !same_bytes(k, y, b, x->len))
            return hh_digest_raw(&k->sha, b, x->len, x->sha);
        *shift = (y - k->prev.ch) - (ptrdiff_t)i;
    }
    memcpy(x->sha, y->sha, sizeof x->sha);
    return HH_OK;
}

/* cur's snapshot cut into named chunks, and its manifest. */
static int cut_and_name(struct ckpt *k)
{
    struct ckpt_snap *c = &k->cur;
    size_t from = 0;
    ptrdiff_t shift = 0;
    int rc;

    if (!k->sha_ready) {
        if ((rc = hh_digest_init(&k->sha)) != HH_OK)
            return rc;
        k->sha_ready = true;
    }
    c->n = 0;
    if (hh_grow(&c->ch, &c->cap, c->w.ncut, sizeof *c->ch) ||
        hh_grow(&k->manifest, &k->capmanifest, MAGIC_LEN + c->w.ncut * HH_STORE_DIGEST_BYTES,
                1))
        return HH_ENOMEM;
    memcpy(k->manifest, HH_STORE_MANIFEST_MAGIC, MAGIC_LEN);
    for (size_t i = 0; i < c->w.ncut; i++) {
        struct ckpt_chunk *x = &c->ch[c->n++];

        x->off = from;
        x->len = c->w.cut[i] - from;
        from = c->w.cut[i];
        if ((rc = name_chunk(k, c->w.p, i, &shift)) != HH_OK)
            return rc;
        memcpy(k->manifest + MAGIC_LEN + i * HH_STORE_DIGEST_BYTES, x->sha, sizeof x->sha);
    }
    HH_ASSERT(from == c->w.n);   /* the snapshot ends with a cut */
    k->lenmanifest = MAGIC_LEN + c->n * HH_STORE_DIGEST_BYTES;
    return HH_OK;
}

static int root_of(const struct ckpt *k, char root[HH_DIGEST_HEX])
{
    return hh_journal_manifest_hash(k->manifest + MAGIC_LEN, k->cur.n, root);
}

/* prev := cur, indexed. */
static int swap_in(struct ckpt *k)
{
    struct ckpt_snap t = k->prev;

    k->prev = k->cur;
    k->cur = t;
    hh_u64map_clear(&k->by_h64);
    hh_u64map_clear(&k->by_sha);
    for (size_t j = 0; j < k->prev.n; j++) {
        const struct ckpt_chunk *x = &k->prev.ch[j];

        if ((x->len && hh_u64map_put(&k->by_h64, x->h64, j + 1)) ||
            hh_u64map_put(&k->by_sha, sha_key(x->sha), j + 1))
            return HH_ENOMEM;
    }
    return HH_OK;
}

/* Whether the store holds the chunk named sha: the last checkpoint named
 * it.  (Two digests sharing their first 8 bytes make this false: the
 * chunk is then submitted again, which the store ignores.) */
static bool stored(const struct ckpt *k, const unsigned char *sha)
{
    const struct ckpt_chunk *y = prev_chunk(k, &k->by_sha, sha_key(sha));

    return y && !memcmp(y->sha, sha, HH_STORE_DIGEST_BYTES);
}

/* A chunk record for each chunk of cur the store does not hold. */
static void chunk_records(struct hh_journal *p)
{
    struct ckpt *k = &p->ck;

    for (size_t i = 0; i < k->cur.n; i++) {
        const struct ckpt_chunk *x = &k->cur.ch[i];
        struct hh_store_rec *r;

        if (stored(k, x->sha))
            continue;
        if (!(r = hh_journal__rec(p, HH_STORE_CHUNK)))
            return;
        r->u.chunk.sha = x->sha;
        r->u.chunk.bytes = k->cur.w.p + x->off;
        r->u.chunk.len = x->len;
        p->stats.checkpoint_bytes += x->len;
    }
}

int hh_journal__ckpt_take(struct hh_journal *p, struct hh_store_checkpoint *out,
                          char root[HH_DIGEST_HEX])
{
    struct ckpt *k = &p->ck;
    int rc = hh_tm_snapshot_into(p->tm, &k->cur.w);

    if (!rc)
        rc = cut_and_name(k);
    if (!rc)
        rc = root_of(k, root);
    if (rc)
        return rc;
    chunk_records(p);
    out->state = k->manifest;
    out->state_len = k->lenmanifest;
    p->stats.checkpoint_bytes += k->lenmanifest;
    /* the manifest buffer is rewritten by the next checkpoint only */
    return swap_in(k);
}

int hh_journal__ckpt_seed(struct hh_journal *p, const unsigned char *digests, size_t n)
{
    struct ckpt *k = &p->ck;
    struct ckpt_snap *c = &k->cur;

    hh_ser_w_reset(&c->w);
    if (hh_grow(&c->ch, &c->cap, n, sizeof *c->ch))
        return HH_ENOMEM;
    c->n = n;
    for (size_t i = 0; i < n; i++) {
        memset(&c->ch[i], 0, sizeof c->ch[i]);
        memcpy(c->ch[i].sha, digests + i * HH_STORE_DIGEST_BYTES, HH_STORE_DIGEST_BYTES);
    }
    return swap_in(k);
}

int hh_journal__ckpt_init(struct ckpt *k)
{
    memset(k, 0, sizeof *k);
    if (hh_u64map_init(&k->by_h64, 256) || hh_u64map_init(&k->by_sha, 256)) {
        hh_journal__ckpt_free(k);
        return HH_ENOMEM;
    }
    return HH_OK;
}

void hh_journal__ckpt_free(struct ckpt *k)
{
    hh_ser_w_free(&k->cur.w);
    hh_ser_w_free(&k->prev.w);
    free(k->cur.ch);
    free(k->prev.ch);
    free(k->manifest);
    hh_u64map_free(&k->by_h64);
    hh_u64map_free(&k->by_sha);
    if (k->sha_ready)
        hh_digest_free(&k->sha);
    memset(k, 0, sizeof *k);
}

int hh_journal_state_hash(const struct hh_tm *tm, char hex[HH_DIGEST_HEX])
{
    struct ckpt k;
    int rc = hh_journal__ckpt_init(&k);

    if (!rc)
        rc = hh_tm_snapshot_into(tm, &k.cur.w);
    if (!rc)
        rc = cut_and_name(&k);
    if (!rc)
        rc = root_of(&k, hex);
    hh_journal__ckpt_free(&k);
    return rc;
}

int hh_journal_manifest_hash(const unsigned char *digests, size_t n, char hex[HH_DIGEST_HEX])
{
    return hh_digest_hex(digests, n * HH_STORE_DIGEST_BYTES, hex);
}
