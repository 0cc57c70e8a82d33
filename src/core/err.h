/*
 * err.h — hedgehog's error codes and the diagnostic buffer that carries the
 * details (file, line, field) to whoever reports them.
 *
 * Every action function returns int: 0 (HH_OK) on success, a negative
 * enum hh_err on failure.  Predicates return bool.  The codes come from one
 * X-macro table so that the enum and hh_strerror() cannot drift apart.
 */
#ifndef HH_ERR_H
#define HH_ERR_H

#include <stdarg.h>
#include <stddef.h>

#define HH_ERR_TABLE(X)                                                   \
    X(OK,        0, "success")                                            \
    X(ENOMEM,   -1, "out of memory")                                      \
    X(EIO,      -2, "input/output error")                                 \
    X(ESYNTAX,  -3, "syntax error")                                       \
    X(ERANGE,   -4, "value out of range")                                 \
    X(EPREC,    -5, "more decimal places than the type holds")            \
    X(ENOTFOUND,-6, "not found")                                          \
    X(EEXIST,   -7, "already exists")                                     \
    X(EINVAL,   -8, "invalid argument")                                   \
    X(EFULL,    -9, "capacity exhausted")                                 \
    X(EHEADER, -10, "missing or invalid header")                          \
    X(ECONFIG, -11, "invalid configuration")                              \
    X(ESTATE,  -12, "operation not allowed in the current state")         \
    X(EOVERFLOW,-13, "arithmetic overflow")                               \
    X(EDB,     -14, "database error")                                     \
    X(EBROKER, -15, "broker error")                                       \
    X(ETIMEOUT,-16, "timed out")                                          \
    X(EUNAVAIL,-17, "service unavailable")                                \
    X(ETAMPER, -18, "integrity check failed")                            \
    X(EAUTH,   -19, "not authorised: the broker refused the credentials")

enum hh_err {
#define HH__ERR_ENUM(name, val, text) HH_##name = (val),
    HH_ERR_TABLE(HH__ERR_ENUM)
#undef HH__ERR_ENUM
};

/* Static text for an error code; never NULL ("unknown error" otherwise). */
const char *hh_strerror(int rc);

/* Symbolic name of an error code ("ESYNTAX"); never NULL. */
const char *hh_errname(int rc);

/*
 * A diagnostic: the human-readable detail of the last failure, written by
 * the callee into a buffer the caller owns.  Functions that take a
 * `struct hh_diag *` accept NULL when the caller does not want details.
 */
struct hh_diag {
    char msg[512];
};

/* Format into d->msg (no-op when d is NULL).  Returns rc so callers can
 * write `return hh_diag_set(d, HH_ESYNTAX, "...")`. */
int hh_diag_set(struct hh_diag *d, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prefix the existing message with "prefix: " (e.g. the file name). */
int hh_diag_prefix(struct hh_diag *d, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Assertion for hedgehog's own bugs only, never for bad input: compiled in
 * release builds too; logs file:line and aborts. */
#define HH_ASSERT(cond)                                                   \
    do {                                                                  \
        if (!(cond))                                                      \
            hh__assert_fail(#cond, __FILE__, __LINE__);                   \
    } while (0)

_Noreturn void hh__assert_fail(const char *expr, const char *file, int line);

#endif
