/*
 * grow.c — see grow.h.
 */
#include "core/grow.h"

#include "core/err.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int hh_grow(void *array_ptr, size_t *cap, size_t need, size_t elem)
{
    size_t c = *cap ? *cap : 16;
    void *old, *q;

    if (need <= *cap)
        return HH_OK;
    while (c < need) {
        if (c > SIZE_MAX / 2 / elem)
            return HH_ENOMEM;
        c *= 2;
    }
    /* The caller's pointer is some `T *`; copy it through memcpy rather
     * than writing through a `void **` so no aliasing rule is bent. */
    memcpy(&old, array_ptr, sizeof old);
    q = realloc(old, c * elem);
    if (!q)
        return HH_ENOMEM;
    memcpy(array_ptr, &q, sizeof q);
    *cap = c;
    return HH_OK;
}
