/*
 * serial.h — binary serialization for state blobs (the trade manager's
 * snapshot, the paper broker's book): a growable write buffer and a read
 * cursor over a byte string.
 *
 * Integers are written little-endian, fixed width, whatever the host;
 * hh_ser_put() copies bytes as they are (a struct is the host's layout: its
 * reader must be the build that wrote it).  Errors are sticky flags so a
 * writer or reader runs straight through and checks once at the end: after
 * an allocation failure the writer adds nothing (`oom`); a read past the
 * end sets `bad`, and that read and every later one yield zeros.
 */
#ifndef HH_SERIAL_H
#define HH_SERIAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A write buffer; start from { 0 }.  p (and cut) are malloc'd: the
 * caller takes them (or frees them: hh_ser_w_free) when done.  A writer
 * may also mark where the bytes may be cut into chunks (hh_ser_cut): the
 * engine's checkpoints are stored chunk by chunk, so that a chunk whose
 * bytes did not change is not written again. */
struct hh_ser_w {
    unsigned char *p;              /* the bytes written (NULL before any) */
    size_t n, cap;                 /* bytes written, bytes allocated */
    size_t *cut;                   /* offsets where a chunk may end, increasing */
    size_t ncut, capcut;
    bool oom;                      /* an allocation failed: p is incomplete */
};

/* Empty w for writing again, keeping its buffers. */
void hh_ser_w_reset(struct hh_ser_w *w);

/* Free w's buffers and empty it. */
void hh_ser_w_free(struct hh_ser_w *w);

/* A chunk may end at the current offset (nothing at 0 or twice). */
void hh_ser_cut(struct hh_ser_w *w);

void hh_ser_put(struct hh_ser_w *w, const void *v, size_t n);
void hh_ser_put_u32(struct hh_ser_w *w, uint32_t v);
void hh_ser_put_u64(struct hh_ser_w *w, uint64_t v);
void hh_ser_put_i64(struct hh_ser_w *w, int64_t v);

/* A read cursor over p[0..n) (borrowed). */
struct hh_ser_r {
    const unsigned char *p;
    size_t n, at;                  /* length, bytes consumed */
    bool bad;                      /* read past the end (or marked bad by the caller) */
};

/* A cursor at the start of p[0..n). */
struct hh_ser_r hh_ser_reader(const void *p, size_t n);

/* Bytes not yet read (0 once bad). */
size_t hh_ser_left(const struct hh_ser_r *r);

/* n bytes into v (v may be NULL when n is 0). */
void hh_ser_get(struct hh_ser_r *r, void *v, size_t n);
uint32_t hh_ser_get_u32(struct hh_ser_r *r);
uint64_t hh_ser_get_u64(struct hh_ser_r *r);
int64_t hh_ser_get_i64(struct hh_ser_r *r);

#endif
