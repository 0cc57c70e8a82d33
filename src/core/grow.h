/*
 * grow.h — growing a malloc'd array by doubling: the one helper every
 * module uses for its tables (orders, trades, queues, buffers).
 */
#ifndef HH_GROW_H
#define HH_GROW_H

#include <stddef.h>

/*
 * Make the array whose pointer is at `array_ptr` (for `struct x *a;` pass
 * `&a`) hold at least `need` elements of `elem` bytes, doubling from 16;
 * *cap is its capacity in elements.  On failure the array and *cap are
 * unchanged and HH_ENOMEM is returned; the elements already there are kept
 * either way.
 */
int hh_grow(void *array_ptr, size_t *cap, size_t need, size_t elem);

#endif
