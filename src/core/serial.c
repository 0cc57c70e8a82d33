/*
 * serial.c — the write buffer and read cursor of serial.h.
 *
 * Invariants: w->n <= w->cap; once w->oom is set nothing more is written;
 * r->at <= r->n, and once r->bad is set every read yields zeros.
 */
#include "core/serial.h"

#include <stdlib.h>
#include <string.h>

void hh_ser_put(struct hh_ser_w *w, const void *v, size_t n)
{
    if (w->oom || n == 0)
        return;
    if (n > w->cap - w->n) {
        size_t cap = w->cap ? w->cap : 4096;
        unsigned char *q;

        while (cap - w->n < n)
            cap *= 2;
        q = realloc(w->p, cap);
        if (!q) {
            w->oom = true;
            return;
        }
        w->p = q;
        w->cap = cap;
    }
    memcpy(w->p + w->n, v, n);
    w->n += n;
}

void hh_ser_w_reset(struct hh_ser_w *w)
{
    w->n = 0;
    w->ncut = 0;
    w->oom = false;
}

void hh_ser_w_free(struct hh_ser_w *w)
{
    free(w->p);
    free(w->cut);
    memset(w, 0, sizeof *w);
}

void hh_ser_cut(struct hh_ser_w *w)
{
    if (w->oom || w->n == 0 || (w->ncut && w->cut[w->ncut - 1] == w->n))
        return;
    if (w->ncut == w->capcut) {
        size_t cap = w->capcut ? 2 * w->capcut : 256;
        size_t *q = realloc(w->cut, cap * sizeof *q);

        if (!q) {
            w->oom = true;
            return;
        }
        w->cut = q;
        w->capcut = cap;
    }
    w->cut[w->ncut++] = w->n;
}

/* v as `width` bytes, least significant first. */
static void put_le(struct hh_ser_w *w, uint64_t v, int width)
{
    unsigned char b[8];

    for (int i = 0; i < width; i++)
        b[i] = (unsigned char)(v >> (8 * i));
    hh_ser_put(w, b, (size_t)width);
}

void hh_ser_put_u32(struct hh_ser_w *w, uint32_t v)
{
    put_le(w, v, 4);
}

void hh_ser_put_u64(struct hh_ser_w *w, uint64_t v)
{
    put_le(w, v, 8);
}

void hh_ser_put_i64(struct hh_ser_w *w, int64_t v)
{
    put_le(w, (uint64_t)v, 8);
}

struct hh_ser_r hh_ser_reader(const void *p, size_t n)
{
    struct hh_ser_r r = { .p = p, .n = n, .at = 0, .bad = false };

    return r;
}

size_t hh_ser_left(const struct hh_ser_r *r)
{
    return r->bad ? 0 : r->n - r->at;
}

void hh_ser_get(struct hh_ser_r *r, void *v, size_t n)
{
    if (n == 0)
        return;
    if (r->bad || n > r->n - r->at) {
        r->bad = true;
        memset(v, 0, n);
        return;
    }
    memcpy(v, r->p + r->at, n);
    r->at += n;
}

static uint64_t get_le(struct hh_ser_r *r, int width)
{
    unsigned char b[8];
    uint64_t v = 0;

    hh_ser_get(r, b, (size_t)width);
    for (int i = width - 1; i >= 0; i--)
        v = v << 8 | b[i];
    return v;
}

uint32_t hh_ser_get_u32(struct hh_ser_r *r)
{
    return (uint32_t)get_le(r, 4);
}

uint64_t hh_ser_get_u64(struct hh_ser_r *r)
{
    return get_le(r, 8);
}

int64_t hh_ser_get_i64(struct hh_ser_r *r)
{
    return (int64_t)get_le(r, 8);
}
