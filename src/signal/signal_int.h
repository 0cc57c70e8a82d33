/*
 * signal_int.h — names shared between the files of the signal module
 * (signal.c, jsongate.c, group.c) and nothing else.
 */
#ifndef HH_SIGNAL_INT_H
#define HH_SIGNAL_INT_H

#include <stdbool.h>
#include <stddef.h>

/* A growable byte buffer owned by the validator (the gate's rewrite copy). */
struct hh_sig__buf {
    char *p;
    size_t cap;
};

/*
 * The lexical gate: enforce the parts of RFC 8259 json-c does not, before
 * json-c sees the line (see jsongate.c for the list).
 *
 * line[0..len) is borrowed.  On success returns 0 and sets *text to the
 * bytes json-c must parse (len of them): the line itself, or — when a bare
 * NaN/Infinity token had to be normalised — a copy in `buf` (grown as
 * needed).  *top_end receives the offset just past the bracket that first
 * closes the outermost value (len when none does): a json-c error at or
 * after it is trailing text.  On failure returns HH_ESYNTAX with a short
 * explanation in why[0..cap), or HH_ENOMEM when the copy could not be made.
 */
int hh_sig__gate(const char *line, size_t len, struct hh_sig__buf *buf,
                 const char **text, size_t *top_end, char *why, size_t cap);

/* True when s[0..n) matches the RFC 8259 number grammar
 * -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
bool hh_sig__is_json_number(const char *s, size_t n);

/* A signal id: 1-64 characters of [A-Za-z0-9._:-]. */
bool hh_sig__id_valid(const char *s, size_t n);

/* What a JSON value is, for "expected X, got Y": "a string", "null"... */
struct json_object;
const char *hh_sig__json_kind(struct json_object *o);

/* True when s[0..n) is a non-finite spelling: optional + or -, then nan,
 * inf or infinity in any case. */
bool hh_sig__is_nonfinite(const char *s, size_t n);

/* Length of the valid UTF-8 sequence at s[0..n) (RFC 3629: no overlong
 * forms, no surrogates, nothing above U+10FFFF), or 0 when invalid. */
size_t hh_sig__utf8_len(const unsigned char *s, size_t n);

#endif
