/*
 * version.h — what this binary is: its release version, and its build id,
 * the GNU build-id the linker writes into the binary (a hash of its code
 * and data: two builds of different code never share one, the same sources
 * built the same way always do).  `hedgehog --version` prints both; the
 * journal records the build id at each start so a restore that fails can
 * say whether the database was written by this very build.
 */
#ifndef HH_APP_VERSION_H
#define HH_APP_VERSION_H

#define HH_VERSION "1.0.0"

/* The build id as lowercase hex, "unknown" when the binary carries none.
 * Static storage; safe from any thread. */
const char *hh_build_id(void);

#endif
