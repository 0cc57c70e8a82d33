/*
 * u64map.h — an open-addressing hash map from uint64 keys to uint64 values
 * (order ids -> owners, exec ids seen).  Key 0 is reserved (never stored).
 * No allocation on lookup; inserts grow the table at 50 % load.
 */
#ifndef HH_U64MAP_H
#define HH_U64MAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct hh_u64map {
    uint64_t *keys;      /* 0 = empty, UINT64_MAX = deleted */
    uint64_t *vals;
    size_t cap;          /* power of two */
    size_t used;         /* live + deleted slots */
    size_t live;
};

int hh_u64map_init(struct hh_u64map *m, size_t cap_hint);
void hh_u64map_free(struct hh_u64map *m);

/* Insert or replace; key must not be 0 or UINT64_MAX. */
int hh_u64map_put(struct hh_u64map *m, uint64_t key, uint64_t val);

/* Look up; false when absent. */
bool hh_u64map_get(const struct hh_u64map *m, uint64_t key, uint64_t *val);

/* Remove every key, keeping the table's size. */
void hh_u64map_clear(struct hh_u64map *m);

/* Remove; false when absent. */
bool hh_u64map_del(struct hh_u64map *m, uint64_t key);

#endif
