/*
 * signal_int.h — names shared between the files of the signal module
 * (signal.c, sigscan.c, jsongate.c, group.c), their tests, fuzz target and
 * benchmark, and nothing else.
 */
#ifndef HH_SIGNAL_INT_H
#define HH_SIGNAL_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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

/*
 * One JSON value as the validator sees it, from either road: the fast
 * scanner (sigscan.c) or json-c.  Text is borrowed (from the line or from
 * json-c's objects) and is not NUL-terminated.
 */
enum hh_sig__kind {
    HH_SV_NONE,      /* absent, or null */
    HH_SV_BOOL,
    HH_SV_INT,       /* i: the value, clamped to int64 as json-c does */
    HH_SV_REAL,      /* s, n: the token's text; finite: an RFC 8259 number */
    HH_SV_STR,       /* s, n: the bytes, unescaped */
    HH_SV_ARR,
    HH_SV_OBJ,
};

struct hh_sig__val {
    enum hh_sig__kind kind;
    const char *s;
    size_t n;
    int64_t i;
    bool finite;
};

/* What a value is, for "expected X, got Y" (the same words as
 * hh_sig__json_kind). */
const char *hh_sig__kind_name(const struct hh_sig__val *v);

/* A flat object read by the fast scanner: members in line order (a key
 * may repeat; the last one counts), list items back to back. */
#define HH_SIG__MEMBERS_MAX 32
#define HH_SIG__ITEMS_MAX 32

struct hh_sig__member {
    const char *key;
    size_t klen;
    struct hh_sig__val v;
    size_t item0, nitems;    /* HH_SV_ARR: its items in hh_sig__flat.item */
};

struct hh_sig__flat {
    struct hh_sig__member m[HH_SIG__MEMBERS_MAX];
    size_t nm;
    struct hh_sig__val item[HH_SIG__ITEMS_MAX];
    size_t ni;
};

/*
 * The fast path (sigscan.c): read line[0..len) when it is one flat object
 * of the simple shape documented there, which gate + json-c would accept
 * and read to the same values.  false declines — not an error: the line
 * must then take the full road.
 */
bool hh_sig__scan(const char *line, size_t len, struct hh_sig__flat *out);

/* Tests: make the validator take the full road (gate + json-c) for every
 * line, so that both roads can be compared on the same input. */
struct hh_sig_validator;
void hh_sig__full_road_only(struct hh_sig_validator *v, bool on);

/*
 * The set of signal ids seen (idset.c): an open-addressing table of ids
 * 1-64 bytes long.  Zero-initialised is empty.
 */
struct hh_sig__ids {
    uint64_t *slot;
    size_t cap;              /* power of two, or 0 before the first insert */
    size_t count;
    char *arena;             /* ids back to back (offsets survive realloc) */
    size_t alen, acap;
};

/* The hash of the id s[0..n), computed once per line and given to the
 * two calls below. */
uint64_t hh_sig__ids_hash(const char *s, size_t n);

/* Look the id s[0..n) (hash h) up and add it when new; *seen tells which.
 * HH_ENOMEM when it could not be added. */
int hh_sig__ids_add(struct hh_sig__ids *set, const char *s, size_t n, uint64_t h, bool *seen);

/* Start loading the slot the id of hash h would be looked up in (a hint). */
void hh_sig__ids_prefetch(const struct hh_sig__ids *set, uint64_t h);

void hh_sig__ids_free(struct hh_sig__ids *set);

/* Rejection details (detail.c); each writes buf[0..cap) and returns it.
 * show: untrusted text, printable ASCII kept, others '?', cut to 40
 * characters; show_fx: a price with the fewest places >= 2 that show it
 * exactly; show_ratio: a 1e-9 ratio without trailing zeros; show_secs: a
 * signed duration in ns as exact seconds ("2.001 s"). */
const char *hh_sig__show(char *buf, size_t cap, const char *s, size_t n);
const char *hh_sig__show_fx(char *buf, size_t cap, int64_t v);
const char *hh_sig__show_ratio(char *buf, size_t cap, int64_t r);
const char *hh_sig__show_secs(char *buf, size_t cap, __int128 ns);

#endif
