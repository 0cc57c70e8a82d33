/*
 * lines.h — a buffered line reader for large files and followed streams.
 *
 * Reads with large read(2) calls into one growable buffer and hands out
 * lines in place (no copy, no allocation per line).  A line longer than the
 * reader's limit is not buffered: it is skipped up to its newline and
 * reported once as HH_EFULL with its line number, so a 10 MB line costs no
 * more memory than a short one and never hides the lines around it.
 *
 * Line numbers are 1-based physical lines.  A trailing "\r" is removed.
 * The final line may lack its newline.
 *
 * A returned line is followed in memory by at least HH_LINES_PAD readable
 * bytes (its newline, later input, stale or zero bytes: content
 * unspecified), so a parser may load a whole word or vector at any
 * position inside the line without checking the end first.
 */
#ifndef HH_LINES_H
#define HH_LINES_H

#include "core/err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct hh_lines;

#define HH_LINES_DEFAULT_MAX (1u << 20)   /* 1 MiB */
#define HH_LINES_PAD         64           /* readable bytes past any line */

/*
 * Open `path` ("-" means stdin).  max_line is the longest line kept
 * (0 = HH_LINES_DEFAULT_MAX).  On failure returns HH_EIO with the file name
 * and the system's reason in d.  *out is owned by the caller
 * (hh_lines_close()).
 */
int hh_lines_open(struct hh_lines **out, const char *path, size_t max_line,
                  struct hh_diag *d);

/* Wrap an already open descriptor (not closed by hh_lines_close when
 * own_fd is false).  `name` is used in messages and copied. */
int hh_lines_fdopen(struct hh_lines **out, int fd, bool own_fd, const char *name,
                    size_t max_line, struct hh_diag *d);

/*
 * Next line.  Returns 1 with *line and *len set (borrowed: valid until the next
 * call), 0 at end of input, HH_EFULL for an over-long line (skipped; its
 * number is hh_lines_lineno()), or HH_EIO on a read error.
 *
 * In follow mode (see hh_lines_set_follow) end of input is not final: 0 means
 * "nothing more yet" and a later call picks up what was appended; a partial
 * last line is held back until its newline arrives.
 */
int hh_lines_next(struct hh_lines *lr, const char **line, size_t *len);

/*
 * Zero-copy access for a reader that finds line ends itself (the market
 * data fast road).  hh_lines_buffered() gives the bytes read and not yet
 * handed out, without reading (*p borrowed until the next call of any
 * function here; 0 bytes while an over-long line is being skipped).
 * hh_lines_consume() then hands out their first n bytes as `lines` lines:
 * they must end with a newline and hold `lines` newlines.  Line number and
 * offset advance as if hh_lines_next() had returned those lines.
 */
size_t hh_lines_buffered(const struct hh_lines *lr, const char **p);
void hh_lines_consume(struct hh_lines *lr, size_t n, uint64_t lines);

/* Does the buffer hold a complete line (hh_lines_next() returns it without
 * reading)?  For callers that poll() the descriptor of a pipe before
 * reading, so as not to block when nothing is there. */
bool hh_lines_pending(const struct hh_lines *lr);

/* Keep reading past end of file (tail -f); see hh_lines_next(). */
void hh_lines_set_follow(struct hh_lines *lr, bool follow);

/* Number of the line most recently returned (or skipped). */
uint64_t hh_lines_lineno(const struct hh_lines *lr);

/* Bytes consumed so far (for progress). */
uint64_t hh_lines_offset(const struct hh_lines *lr);

/* Total size of the file when known (regular files), else 0. */
uint64_t hh_lines_size(const struct hh_lines *lr);

/* The name given at open. */
const char *hh_lines_name(const struct hh_lines *lr);

/* The underlying descriptor (for poll()). */
int hh_lines_fd(const struct hh_lines *lr);

/*
 * The end of a whole-file read loop, as a diagnosis for `path`: rc is the
 * last hh_lines_next() result.  0 stays 0; an over-long line becomes
 * HH_ESYNTAX "path:N: line too long"; a read error stays itself with
 * "path: read error".  For loaders where any bad line rejects the file.
 */
int hh_lines_end(const struct hh_lines *lr, int rc, const char *path, struct hh_diag *d);

/* Close and free; accepts NULL. */
void hh_lines_close(struct hh_lines *lr);

#endif
