/*
 * jsonout.h — writing JSON text: string literals escaped once, for every
 * file the engine writes (summaries, reports, dead letters, logs).
 */
#ifndef HH_JSONOUT_H
#define HH_JSONOUT_H

#include <stdio.h>

/* s as a JSON string literal that is also safe inside an HTML <script>
 * ("<", ">", "&" escaped; control characters as \u00XX). */
void hh_json_put_str(FILE *f, const char *s);

#endif
