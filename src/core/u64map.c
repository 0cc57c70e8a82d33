/*
 * u64map.c — linear probing with tombstones; rehash when used > cap/2.
 */
#include "core/u64map.h"

#include "core/err.h"

#include <stdlib.h>
#include <string.h>

#define TOMB UINT64_MAX

static uint64_t mix(uint64_t k)
{
    /* splitmix64 finaliser */
    k ^= k >> 30;
    k *= 0xbf58476d1ce4e5b9ULL;
    k ^= k >> 27;
    k *= 0x94d049bb133111ebULL;
    k ^= k >> 31;
    return k;
}

int hh_u64map_init(struct hh_u64map *m, size_t cap_hint)
{
    size_t cap = 16;

    while (cap < cap_hint * 2)
        cap *= 2;
    m->keys = calloc(cap, sizeof *m->keys);
    m->vals = calloc(cap, sizeof *m->vals);
    m->cap = cap;
    m->used = m->live = 0;
    if (!m->keys || !m->vals) {
        hh_u64map_free(m);
        return HH_ENOMEM;
    }
    return HH_OK;
}

void hh_u64map_free(struct hh_u64map *m)
{
    if (!m)
        return;
    free(m->keys);
    free(m->vals);
    m->keys = m->vals = NULL;
    m->cap = m->used = m->live = 0;
}

static int rehash(struct hh_u64map *m, size_t cap)
{
    struct hh_u64map n;
    int rc = hh_u64map_init(&n, cap / 2);

    if (rc)
        return rc;
    for (size_t i = 0; i < m->cap; i++)
        if (m->keys[i] && m->keys[i] != TOMB)
            hh_u64map_put(&n, m->keys[i], m->vals[i]);
    hh_u64map_free(m);
    *m = n;
    return HH_OK;
}

int hh_u64map_put(struct hh_u64map *m, uint64_t key, uint64_t val)
{
    size_t i, tomb = SIZE_MAX;

    if (key == 0 || key == TOMB)
        return HH_EINVAL;
    if ((m->used + 1) * 2 > m->cap) {
        int rc = rehash(m, m->live * 4 > m->cap ? m->cap * 2 : m->cap);

        if (rc)
            return rc;
    }
    for (i = mix(key) & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
        if (m->keys[i] == key) {
            m->vals[i] = val;
            return HH_OK;
        }
        if (m->keys[i] == TOMB && tomb == SIZE_MAX)
            tomb = i;
        if (m->keys[i] == 0)
            break;
    }
    if (tomb != SIZE_MAX)
        i = tomb;
    else
        m->used++;
    m->keys[i] = key;
    m->vals[i] = val;
    m->live++;
    return HH_OK;
}

static size_t find(const struct hh_u64map *m, uint64_t key)
{
    if (!m->cap || key == 0 || key == TOMB)
        return SIZE_MAX;
    for (size_t i = mix(key) & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
        if (m->keys[i] == key)
            return i;
        if (m->keys[i] == 0)
            return SIZE_MAX;
    }
}

bool hh_u64map_get(const struct hh_u64map *m, uint64_t key, uint64_t *val)
{
    size_t i = find(m, key);

    if (i == SIZE_MAX)
        return false;
    if (val)
        *val = m->vals[i];
    return true;
}

bool hh_u64map_del(struct hh_u64map *m, uint64_t key)
{
    size_t i = find(m, key);

    if (i == SIZE_MAX)
        return false;
    m->keys[i] = TOMB;
    m->live--;
    return true;
}

void hh_u64map_clear(struct hh_u64map *m)
{
    if (m->keys)
        memset(m->keys, 0, m->cap * sizeof *m->keys);
    m->used = m->live = 0;
}
