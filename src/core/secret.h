/*
 * secret.h — secret files: a key kept in a file that only its owner may
 * read, such as the audit chain's HMAC key (`audit.key_file`).
 *
 * A secret file must be a regular file with no permission for group or
 * others (mode 0600 or stricter); anything else is refused before a byte
 * is read, the message naming the file and its mode.  No message ever
 * holds what the file holds, and every buffer that held it is wiped.
 */
#ifndef HH_SECRET_H
#define HH_SECRET_H

#include "core/err.h"

#include <stddef.h>

/* Largest secret file read, in bytes (a hex key with comments fits). */
#define HH_SECRET_FILE_MAX 4096

/*
 * Read the secret file at path: one line of hex digits (either case),
 * with blank lines and '#' comment lines allowed around it, decoded into
 * out[0..*len) with min <= *len <= max (out has max bytes).  `what` names
 * the file in messages ("audit key file").  HH_OK; HH_EIO (cannot open or
 * read); HH_ECONFIG (not a regular file, readable or writable by group or
 * others, not exactly one line of 2*min..2*max hex digits).  On failure
 * out is wiped.
 */
int hh_secret_read_hex(const char *path, const char *what, unsigned char *out, size_t min,
                       size_t max, size_t *len, struct hh_diag *d);

#endif
