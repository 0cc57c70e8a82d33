/*
 * instrument_int.h — names shared by instrument.c and symbol.c only.
 */
#ifndef HH_INSTRUMENT_INT_H
#define HH_INSTRUMENT_INT_H

#include "core/instrument.h"

/*
 * hh_sym_parse() for a symbol whose underlying is known to be its first
 * `ulen` bytes (from master data): only splits with exactly that underlying
 * are accepted, which settles the NIFTYNXT50-style ambiguity.  ulen == 0
 * means "unknown" and behaves like hh_sym_parse().
 */
int hh_sym__parse_known(const char *s, size_t n, size_t ulen, struct hh_sym *out);

#endif
