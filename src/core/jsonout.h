/*
 * jsonout.h — writing JSON text: one writer and one escaping rule for
 * every JSON the engine writes (dead letters, summary.json, report.html's
 * data, `hedgehog margin`, the journal's audit payloads).
 *
 * The escaping rule: '"' and '\' are escaped; \n \r \t by name; every
 * other control character and DEL as \u00XX; valid UTF-8 passes through
 * and each byte of an invalid sequence becomes \ufffd.  With HH_JSON_HTML
 * "<", ">" and "&" are also escaped (\u003c \u003e \u0026), so the text is
 * safe inside an HTML <script> element.
 *
 * A struct hh_json builds text into a buffer: the caller's, until it is
 * full, then one of its own that grows (nothing is ever cut).  Containers
 * nest; every value call takes the member's key, or NULL for an array
 * element or the top-level value, and writes the separator before it.
 * Layout:
 *   compact (flags 0)      {"a":1,"b":[1,2]}
 *   HH_JSON_SPACED         {"a": 1, "b": [1, 2]}
 * A container opened with `lines` puts each member on a line of its own;
 * hh_json_break() starts just the next member on a new line.  New lines
 * are indented by two spaces per open container when spaced, not at all
 * when compact.  The text is not validated: keys and structure are the
 * caller's.
 *
 * Out of memory is sticky (`oom`): nothing more is written, the text so
 * far stays valid as a string, and hh_json_status() returns HH_ENOMEM.
 */
#ifndef HH_JSONOUT_H
#define HH_JSONOUT_H

#include "core/fixed.h"
#include "core/time.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define HH_JSON_SPACED 1u          /* ": " after keys, ", " between members */
#define HH_JSON_HTML   2u          /* also escape < > & (text inside <script>) */

#define HH_JSON_DEPTH_MAX 32       /* deeper containers are a caller's bug */

struct hh_json {
    char *buf;                     /* the text, NUL-terminated (see hh_json_text) */
    size_t len, cap;               /* bytes of text, bytes of buf */
    bool owned;                    /* buf is the writer's (malloc'd), else the caller's */
    bool oom;                      /* an allocation failed: the text is incomplete */
    unsigned flags;                /* HH_JSON_* */
    int depth;                     /* containers open */
    uint32_t used;                 /* bit d: the container at depth d+1 has a member */
    uint32_t lines;                /* bit d: that container puts members on lines */
    bool brk;                      /* the next member starts a new line */
};

/* Start empty with flags; buf[0..cap) (may be NULL, 0) is used until the
 * text outgrows it.  Free with hh_json_free(). */
void hh_json_init(struct hh_json *w, unsigned flags, char *buf, size_t cap);

/* Empty the text and close every container; the storage is kept. */
void hh_json_reset(struct hh_json *w);

/* Free the writer's own storage (never the caller's buffer); accepts NULL. */
void hh_json_free(struct hh_json *w);

/* The text so far (valid until the next call on w); "" when empty. */
const char *hh_json_text(const struct hh_json *w);

/* HH_OK, or HH_ENOMEM once an allocation failed. */
int hh_json_status(const struct hh_json *w);

/* Write the text so far to f and empty it, keeping the containers open
 * (for long documents).  HH_EIO on a short write. */
int hh_json_flush(struct hh_json *w, FILE *f);

/* Containers; `lines`: each member on a line of its own. */
void hh_json_begin_object(struct hh_json *w, const char *key, bool lines);
void hh_json_end_object(struct hh_json *w);
void hh_json_begin_array(struct hh_json *w, const char *key, bool lines);
void hh_json_end_array(struct hh_json *w);

/* The next member (or element) starts on a new line. */
void hh_json_break(struct hh_json *w);

/* Values.  A NULL string and HH_TIME_NONE are written as null. */
void hh_json_str(struct hh_json *w, const char *key, const char *s);
void hh_json_strn(struct hh_json *w, const char *key, const char *s, size_t n);
void hh_json_null(struct hh_json *w, const char *key);
void hh_json_bool(struct hh_json *w, const char *key, bool v);
void hh_json_int(struct hh_json *w, const char *key, int64_t v);
void hh_json_uint(struct hh_json *w, const char *key, uint64_t v);

/* A fixed-point number: v on the price/money scale with exactly `places`
 * decimals (hh_fx_format). */
void hh_json_fx(struct hh_json *w, const char *key, int64_t v, int places);

/* v with `digits` implied decimals, printed with `places` of them
 * (hh_dec_format), then trailing zeros dropped down to `min_places` (the
 * point too at 0): (2.5000, places 4, min 2) -> 2.50; (0.0300, 4, 0) -> 0.03. */
void hh_json_dec(struct hh_json *w, const char *key, int64_t v, int digits, int places,
                 int min_places);

/* A timestamp as an ISO-8601 string (hh_time_format), null for HH_TIME_NONE. */
void hh_json_time(struct hh_json *w, const char *key, hh_time_t t);

/* A number formatted by printf (floating-point figures at the edge: rates,
 * elapsed seconds); the caller makes sure the text is a JSON number. */
void hh_json_num(struct hh_json *w, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* A value the caller already wrote as JSON text text[0..n) (numbers, or a
 * flat array of them, formatted in bulk: report.html's candles), with its
 * separator and key like any value. */
void hh_json_raw(struct hh_json *w, const char *key, const char *text, size_t n);

/* Text as it is, with no separator: what surrounds a document (a line's end). */
void hh_json_verbatim(struct hh_json *w, const char *text);

/* s as a JSON string literal on f, HTML-safe (the rule above with
 * HH_JSON_HTML), for a document written piecewise to a FILE. */
void hh_json_put_str(FILE *f, const char *s);

/* Length of the valid UTF-8 sequence at s[0..n) (RFC 3629: no overlong
 * forms, no surrogates, nothing above U+10FFFF), or 0 when invalid; n > 0. */
size_t hh_json_utf8_len(const unsigned char *s, size_t n);

#endif
