/*
 * err.c — error names and texts from the X-macro table; diagnostics.
 */
#include "core/err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *hh_strerror(int rc)
{
    switch (rc) {
#define HH__ERR_TEXT(name, val, text) case (val): return text;
    HH_ERR_TABLE(HH__ERR_TEXT)
#undef HH__ERR_TEXT
    }
    return "unknown error";
}

const char *hh_errname(int rc)
{
    switch (rc) {
#define HH__ERR_NAME(name, val, text) case (val): return #name;
    HH_ERR_TABLE(HH__ERR_NAME)
#undef HH__ERR_NAME
    }
    return "EUNKNOWN";
}

int hh_diag_set(struct hh_diag *d, int rc, const char *fmt, ...)
{
    va_list ap;

    if (!d)
        return rc;
    va_start(ap, fmt);
    vsnprintf(d->msg, sizeof d->msg, fmt, ap);
    va_end(ap);
    return rc;
}

int hh_diag_prefix(struct hh_diag *d, int rc, const char *fmt, ...)
{
    char old[sizeof d->msg];
    size_t n, room;
    va_list ap;

    if (!d)
        return rc;
    memcpy(old, d->msg, sizeof old);
    old[sizeof old - 1] = '\0';
    va_start(ap, fmt);
    vsnprintf(d->msg, sizeof d->msg, fmt, ap);
    va_end(ap);
    /* Append ": old", truncating the old message if it does not fit. */
    n = strlen(d->msg);
    room = sizeof d->msg - 1 - n;
    if (room >= 2) {
        memcpy(d->msg + n, ": ", 2);
        n += 2, room -= 2;
        size_t k = strnlen(old, room);
        memcpy(d->msg + n, old, k);
        d->msg[n + k] = '\0';
    }
    return rc;
}

void hh__assert_fail(const char *expr, const char *file, int line)
{
    fprintf(stderr, "hedgehog: internal error: assertion '%s' failed at %s:%d\n",
            expr, file, line);
    fflush(stderr);
    abort();
}
