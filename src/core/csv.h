/*
 * csv.h — splitting one CSV line into fields, and header-to-column maps.
 *
 * RFC 4180 quoting is honoured ("a,b" and "" escapes); unquoted lines —
 * the market-data hot path — are split in place without copying.  Quoted
 * fields are unescaped into a scratch buffer the caller provides.
 */
#ifndef HH_CSV_H
#define HH_CSV_H

#include "core/err.h"

#include <stdbool.h>
#include <stddef.h>

struct hh_field {
    const char *p;   /* borrowed: points into the line or the scratch buffer */
    size_t n;
};

/*
 * Split line[0..len) at commas into at most `max` fields.  Returns the
 * number of fields found (which may exceed max: the extra ones are not
 * stored), or HH_ESYNTAX for an unterminated quote.  `scratch` (len bytes
 * at least) receives unescaped quoted fields; NULL when the caller knows the
 * data is never quoted (then a quote is an error).  Fields are not trimmed.
 */
int hh_csv_split(const char *line, size_t len, struct hh_field *f, int max,
                 char *scratch);

/* True when field equals the NUL-terminated s (case-sensitive). */
bool hh_field_eq(struct hh_field f, const char *s);

/* Field with ASCII blanks (space, tab) trimmed on both sides. */
struct hh_field hh_field_trim(struct hh_field f);

/*
 * Map wanted column names to their positions in a header line.
 * names[i] is wanted; idx[i] receives its column or -1.  Column names are
 * matched after trimming, case-insensitively.  Returns the header's field
 * count, or an error from hh_csv_split.
 */
int hh_csv_header(const char *line, size_t len, const char *const *names, int n,
                  int *idx);

#endif
