/*
 * idset.c — the set of signal ids seen (DUPLICATE), for signal.c.
 */
#include "signal/signal_int.h"

#include "core/err.h"
#include "signal/signal.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

/*
 * An open-addressing table (linear probing, at most half full) of ids,
 * whose bytes live back to back in an arena.  A slot is one packed word —
 * arena offset, length and the top bits of the hash as a tag — so that two
 * million ids cost 32 MiB of table and most misses compare no bytes; 0 is
 * an empty slot (an id is never empty).
 */
#define SLOT_OFF_BITS 40                        /* arena offset: 1 TiB */
#define SLOT_LEN_SHIFT SLOT_OFF_BITS            /* 7 bits: 1..64 */
#define SLOT_TAG_SHIFT 47                       /* the hash's top 17 bits */
#define SLOT_OFF(w) ((size_t)((w) & ((1ULL << SLOT_OFF_BITS) - 1)))
#define SLOT_LEN(w) ((size_t)(((w) >> SLOT_LEN_SHIFT) & 0x7f))
#define SLOT_TAG(w) ((w) >> SLOT_TAG_SHIFT)

/* Eight bytes of s[0..n) from i, zero-filled past n (little- or
 * big-endian alike: only equality and spread matter). */
static inline uint64_t word_at(const char *s, size_t n, size_t i)
{
    uint64_t w = 0;

    memcpy(&w, s + i, n - i < 8 ? n - i : 8);
    return w;
}

/* Eight bytes at a time (an id is at most 64), each folded in with a
 * multiply, then a final mixer so every bit of the id reaches the slot
 * index and the tag. */
uint64_t hh_sig__ids_hash(const char *s, size_t n)
{
    uint64_t h = 0x9E3779B97F4A7C15ULL ^ n;

    for (size_t i = 0; i < n; i += 8)
        h = (h ^ word_at(s, n, i)) * 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 29;
    return h;
}

void hh_sig__ids_free(struct hh_sig__ids *set)
{
    free(set->slot);
    free(set->arena);
}

/*
 * A zeroed table of n slots.  From 2 MiB on it is aligned to 2 MiB and
 * asked to live on huge pages: at two million ids the table is 32 MiB,
 * and with 4 KiB pages nearly every lookup missed the TLB on top of the
 * cache (the advice is a hint; without huge pages it works the same).
 */
static uint64_t *slots_new(size_t n)
{
    const size_t huge = 2u << 20;
    size_t bytes = n * sizeof(uint64_t);
    void *p;

    if (bytes < huge)
        return calloc(n, sizeof(uint64_t));
    if (posix_memalign(&p, huge, bytes))
        return NULL;
    madvise(p, bytes, MADV_HUGEPAGE);
    memset(p, 0, bytes);
    return p;
}

/* Double the table (or create it) and re-place every id. */
static int id_set_grow(struct hh_sig__ids *set)
{
    size_t ncap = set->cap ? set->cap * 2 : 4096, i, j;
    uint64_t *ns = slots_new(ncap);

    if (!ns)
        return HH_ENOMEM;
    for (i = 0; i < set->cap; i++) {
        uint64_t w = set->slot[i];

        if (!w)
            continue;
        j = hh_sig__ids_hash(set->arena + SLOT_OFF(w), SLOT_LEN(w)) & (ncap - 1);
        while (ns[j])
            j = (j + 1) & (ncap - 1);
        ns[j] = w;
    }
    free(set->slot);
    set->slot = ns;
    set->cap = ncap;
    return HH_OK;
}

/* Append the id to the arena; *off receives its position. */
static int id_set_store(struct hh_sig__ids *set, const char *s, size_t n, size_t *off)
{
    if (set->alen + n > set->acap) {
        size_t ncap = set->acap ? set->acap : 65536;
        char *p;

        while (ncap < set->alen + n)
            ncap *= 2;
        if (ncap > (1ULL << SLOT_OFF_BITS))
            return HH_ENOMEM;
        p = realloc(set->arena, ncap);
        if (!p)
            return HH_ENOMEM;
        set->arena = p;
        set->acap = ncap;
    }
    memcpy(set->arena + set->alen, s, n);
    *off = set->alen;
    set->alen += n;
    return HH_OK;
}

/*
 * Start loading the slot where the id of hash h would be looked up.  With
 * millions of ids the table is far larger than the cache, and the lookup's
 * one miss costs as much as validating the rest of the line; issued as soon
 * as the id is known, the load overlaps that work.  A hint only.
 */
void hh_sig__ids_prefetch(const struct hh_sig__ids *set, uint64_t h)
{
    if (set->cap)
        __builtin_prefetch(&set->slot[h & (set->cap - 1)]);
}

/*
 * Look the id s[0..n) (1 <= n <= 64, hash h) up and add it when new.
 * *seen tells which.  HH_ENOMEM when it could not be added.
 */
int hh_sig__ids_add(struct hh_sig__ids *set, const char *s, size_t n, uint64_t h, bool *seen)
{
    uint64_t tag = h >> SLOT_TAG_SHIFT, w;
    size_t j, off;

    HH_ASSERT(n >= 1 && n <= HH_SIG_ID_MAX - 1);
    if ((set->count + 1) * 2 > set->cap && id_set_grow(set))
        return HH_ENOMEM;
    for (j = h & (set->cap - 1); (w = set->slot[j]) != 0; j = (j + 1) & (set->cap - 1)) {
        if (SLOT_TAG(w) == tag && SLOT_LEN(w) == n &&
            !memcmp(set->arena + SLOT_OFF(w), s, n)) {
            *seen = true;
            return HH_OK;
        }
    }
    if (id_set_store(set, s, n, &off))
        return HH_ENOMEM;
    set->slot[j] = (uint64_t)off | (uint64_t)n << SLOT_LEN_SHIFT | tag << SLOT_TAG_SHIFT;
    set->count++;
    *seen = false;
    return HH_OK;
}
