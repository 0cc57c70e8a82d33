/*
 * progress.h — a one-line progress display for long file runs.
 *
 * Shows rows read, rows per second, the share of the input's bytes done
 * and an estimate of the time left, redrawn in place ("\r") on a terminal
 * at most four times a second.  Nothing is shown for the first second, so
 * short runs print nothing, nor when the display is disabled (the caller
 * passes isatty(fileno(out))).  Statistics use double: they are figures
 * for a human, never prices.
 *
 * The wall clock is read here, at the edge (app/), never in the core; and
 * only every HH_PROGRESS_EVERY updates, so calling hh_progress_update()
 * once per row costs a counter increment.
 */
#ifndef HH_PROGRESS_H
#define HH_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define HH_PROGRESS_EVERY 4096   /* updates between clock reads */

struct hh_progress;

/*
 * A display on `out` (borrowed) labelled `label` (copied) for an input of
 * `total` bytes (0 when unknown: no percentage or estimate).  When
 * `enabled` is false every call is a no-op.  Returns NULL on ENOMEM (a
 * NULL display is accepted by every function: it shows nothing).
 */
struct hh_progress *hh_progress_new(FILE *out, const char *label, uint64_t total,
                                    bool enabled);

/* Note progress: `rows` so far and `bytes` of the input consumed. */
void hh_progress_update(struct hh_progress *p, uint64_t rows, uint64_t bytes);

/* Erase the line if one was drawn (call before printing the summary). */
void hh_progress_done(struct hh_progress *p);

void hh_progress_free(struct hh_progress *p);   /* accepts NULL */

#endif
